"""Fault and attack cases (issue 13): cross-site requests, cookie flags, headers, forged payloads.

Every case here is listed with its outcome in docs/operations.md, "Fault and attack cases".  No
refresh runs: the amoCRM settings point nowhere, and every request must be refused or answered
before a job would start.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from dataclasses import replace

import pytest

from report.admin import ids, jobs
from report.urlstate import ViewState
from tests.report.admin.admin_fixtures import (  # noqa: F401  (fixtures)
    ADMIN_PASSWORD,
    admin_config,
    admin_template,
    clean_environ,
    csrf_of,
    dash_post,
    data_dir,
    login,
    make_app,
)

EVIL = "http://evil.example"
OURS = "http://localhost"


@pytest.fixture
def app_factory(admin_config, data_dir):  # noqa: F811
    def make(**env: str):
        return make_app(admin_config, data_dir, clean_environ(REPORT_ADMIN_PASSWORD=ADMIN_PASSWORD, **env))

    return make


@pytest.fixture
def admin_client(app_factory):
    client = app_factory().server.test_client()
    assert login(client).status_code == 303
    return client


def nothing_started(data_dir) -> bool:  # noqa: F811
    paths = jobs.RefreshPaths.of(data_dir)
    return not paths.current.exists() and not list(paths.root.glob("*.json"))


# ---------------------------------------------------------------------------------------------
# Cross-site requests
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/admin/refresh", "/admin/refresh/cancel", "/admin/logout"])
def test_a_cross_site_form_post_in_the_admins_browser_is_refused(admin_client, data_dir, path):  # noqa: F811
    """evil.example's auto-submitting form: the browser adds the cookie (or not: SameSite) and Origin."""
    token = csrf_of(admin_client, "/admin/logout")  # even a leaked token does not help another site
    resp = admin_client.post(path, data={"csrf": token}, headers={"Origin": EVIL})
    assert resp.status_code == 403 and resp.json["error"] == "cross_site_refused"
    assert nothing_started(data_dir)
    assert admin_client.get("/admin/refresh/status").status_code == 200  # still signed in


def test_cached_basic_auth_does_not_carry_a_cross_site_post(app_factory, data_dir):  # noqa: F811
    client = app_factory().server.test_client()
    resp = client.post("/admin/refresh", auth=("admin", ADMIN_PASSWORD), headers={"Origin": EVIL})
    assert resp.status_code == 403 and resp.json["error"] == "cross_site_refused"
    assert nothing_started(data_dir)


@pytest.mark.parametrize("path", ["/admin/refresh", "/admin/refresh/cancel"])
def test_a_session_post_without_the_csrf_token_is_refused(admin_client, data_dir, path):  # noqa: F811
    resp = admin_client.post(path, headers={"Origin": OURS})
    assert resp.status_code == 403 and resp.json["error"] == "csrf_failed"
    wrong = admin_client.post(path, headers={"X-CSRF-Token": "not-the-token"})
    assert wrong.status_code == 403 and wrong.json["error"] == "csrf_failed"
    assert nothing_started(data_dir)


def test_a_same_site_post_with_the_token_works(admin_client):
    token = csrf_of(admin_client, "/admin/logout")
    cancel = admin_client.post("/admin/refresh/cancel", headers={"Origin": OURS, "X-CSRF-Token": token})
    assert cancel.status_code == 409 and cancel.json["error"] == "not_running"  # passed every check
    out = admin_client.post("/admin/logout", data={"csrf": token}, headers={"Origin": OURS})
    assert out.status_code == 303
    assert admin_client.get("/admin/refresh/status").status_code == 401


def test_get_logout_only_offers_a_button(admin_client):
    page = admin_client.get("/admin/logout")
    assert page.status_code == 200 and 'method="post" action="/admin/logout"' in page.get_data(as_text=True)
    assert admin_client.get("/admin/refresh/status").status_code == 200  # a GET signs nobody out


def test_a_cross_site_login_post_is_refused(app_factory):
    client = app_factory().server.test_client()
    token = csrf_of(client)
    data = {"csrf": token, "user": "admin", "password": ADMIN_PASSWORD}
    resp = client.post("/admin/login", data=data, headers={"Origin": EVIL})
    assert resp.status_code == 403 and resp.json["error"] == "cross_site_refused"
    assert client.get("/admin/refresh/status").status_code == 401


@pytest.mark.parametrize(
    ("headers", "allowed"),
    [
        ({"Origin": OURS}, True),
        ({"Referer": OURS + "/funnels"}, True),
        ({}, False),
        ({"Referer": EVIL + "/x"}, False),
        ({"Origin": "null"}, False),
    ],
)
def test_the_panels_dash_callback_needs_a_same_site_origin(admin_client, data_dir, headers, allowed):  # noqa: F811
    resp = _panel_cancel(admin_client, headers)
    if allowed:
        assert (
            resp.status_code == 200 and "Сейчас ничего не обновляется" in resp.json["response"][ids.MESSAGE]["children"]
        )
    else:
        assert resp.status_code == 403 and resp.json["error"] == "cross_site_refused"
    assert nothing_started(data_dir)


def _panel_cancel(client, headers):
    """The panel's cancel button, posted with exactly these headers."""
    return dash_post(client, ids.CANCEL, headers=headers)


# ---------------------------------------------------------------------------------------------
# Cookie flags and headers
# ---------------------------------------------------------------------------------------------


def _session_cookie(resp) -> str:
    cookies = [c for c in resp.headers.getlist("Set-Cookie") if c.startswith("session=")]
    assert cookies, resp.headers
    return cookies[-1]


@pytest.mark.parametrize(
    ("env", "base_url", "headers", "secure"),
    [
        ({}, "http://localhost", {}, False),
        ({"REPORT_COOKIE_SECURE": "1"}, "http://localhost", {}, True),
        ({}, "https://localhost", {}, True),
        ({"REPORT_TRUSTED_PROXIES": "1"}, "http://localhost", {"X-Forwarded-Proto": "https"}, True),
        ({}, "http://localhost", {"X-Forwarded-Proto": "https"}, False),  # no proxy trusted: ignored
    ],
)
def test_session_cookie_flags(app_factory, env, base_url, headers, secure):
    client = app_factory(**env).server.test_client()
    cookie = _session_cookie(client.get("/admin/login", base_url=base_url, headers=headers))
    flags = [part.strip().lower() for part in cookie.split(";")]
    assert "httponly" in flags and "samesite=lax" in flags
    assert ("secure" in flags) is secure


def test_security_headers_on_pages_api_and_assets(app_factory):
    client = app_factory().server.test_client()
    for path in ("/funnels", "/admin/login", "/admin/refresh/status", "/assets/bootstrap.min.css"):
        resp = client.get(path)
        assert resp.headers["X-Content-Type-Options"] == "nosniff", path
        assert resp.headers["Referrer-Policy"] == "same-origin", path
        assert resp.headers["X-Frame-Options"] == "DENY", path
        csp = resp.headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in csp and "default-src 'self'" in csp and "object-src 'none'" in csp
        assert "'unsafe-inline'" not in csp.split("script-src")[1].split(";")[0]


def test_the_csp_allows_exactly_the_pages_inline_script(app_factory):
    client = app_factory().server.test_client()
    resp = client.get("/funnels")
    page = re.sub(r"<!--.*?-->", "", resp.get_data(as_text=True), flags=re.S)  # IE's comment: never run
    scripts = re.findall(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>(.*?)</script>", page, re.S)
    assert scripts  # Dash starts its renderer from one inline script
    for script in scripts:
        digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in resp.headers["Content-Security-Policy"]


def test_frame_ancestors_from_the_environment_allow_a_portal(app_factory):
    client = app_factory(REPORT_FRAME_ANCESTORS="https://portal.example https://intra.example").server.test_client()
    resp = client.get("/funnels")
    assert "frame-ancestors https://portal.example https://intra.example" in resp.headers["Content-Security-Policy"]
    assert "X-Frame-Options" not in resp.headers  # it cannot name origins; the CSP decides


# ---------------------------------------------------------------------------------------------
# Forged Dash payloads and long URLs
# ---------------------------------------------------------------------------------------------


def _sync_dep(client):
    deps = client.get("/_dash-dependencies").json
    return next(d for d in deps if "url-notices.children" in d["output"])


def _sync_payload(dep, search: str, **override):
    outputs = [
        {"id": o.split(".")[0], "property": o.split("@")[0].split(".")[1]}
        for o in dep["output"].strip(".").split("...")
    ]
    inputs = [{"id": i["id"], "property": i["property"], "value": None} for i in dep["inputs"]]
    inputs[0]["value"], inputs[1]["value"] = "/funnels", search
    payload = {
        "output": dep["output"],
        "outputs": outputs,
        "inputs": inputs,
        "changedPropIds": ["url.search"],
        "state": [],
    }
    payload.update(override)
    return payload


@pytest.mark.parametrize(
    "forge",
    [
        pytest.param(lambda dep: b"{not json", id="junk bytes"),
        pytest.param(lambda dep: [1, 2, 3], id="a JSON list"),
        pytest.param(lambda dep: {"output": "nope.children", "inputs": []}, id="unknown output"),
        pytest.param(lambda dep: _sync_payload(dep, "", inputs="x"), id="inputs not a list"),
        pytest.param(lambda dep: _sync_payload(dep, "", inputs=[]), id="inputs missing"),
        pytest.param(
            lambda dep: _sync_payload(dep, "", inputs=[{"id": "ghost", "property": "value", "value": 1}] * 13),
            id="unknown component ids",
        ),
        pytest.param(lambda dep: _sync_payload(dep, "", changedPropIds="url.search"), id="changedPropIds a string"),
        pytest.param(lambda dep: _sync_payload(dep, ["not", {"a": "string"}]), id="search of the wrong type"),
    ],
)
def test_forged_dash_payloads_get_a_4xx_json(app_factory, forge):
    client = app_factory().server.test_client()
    body = forge(_sync_dep(client))
    if isinstance(body, bytes):
        resp = client.post("/_dash-update-component", data=body, content_type="application/json")
    else:
        resp = client.post("/_dash-update-component", json=body)
    assert 400 <= resp.status_code < 500, resp.get_data(as_text=True)[:300]
    assert resp.is_json and resp.json["error"] == "bad_callback_request"


def test_a_link_with_5000_unknown_cities_gets_a_short_answer(app_factory):
    client = app_factory().server.test_client()
    search = "?" + "&".join(f"city=Атлантида-{i}" for i in range(5000))
    resp = client.post("/_dash-update-component", json=_sync_payload(_sync_dep(client), search))
    assert resp.status_code == 200
    assert len(resp.get_data()) < 5_000  # it was 1.4 MB: one notice per value
    alert = resp.json["response"]["url-notices"]["children"][0]["props"]["children"]
    assert [line["props"]["children"] for line in alert] == [
        "Город «Атлантида-0, Атлантида-1, Атлантида-2 и ещё 4\u00a0997» не найден в данных и не применён."
    ]


def test_sign_in_limits_count_per_client_address_behind_a_trusted_proxy(app_factory):
    """Behind one proxy every request has the proxy's remote_addr; the limit keys the client's IP."""
    client = app_factory(REPORT_TRUSTED_PROXIES="1").server.test_client()
    guesser, colleague = {"X-Forwarded-For": "203.0.113.7"}, {"X-Forwarded-For": "198.51.100.4"}
    for guess in range(5):
        resp = client.get("/admin/refresh/status", auth=("admin", f"guess{guess}"), headers=guesser)
        assert resp.status_code == 401
    assert client.get("/admin/refresh/status", auth=("admin", ADMIN_PASSWORD), headers=guesser).status_code == 429
    assert client.get("/admin/refresh/status", auth=("admin", ADMIN_PASSWORD), headers=colleague).status_code == 200


def test_frame_ancestors_from_config_and_the_environment_over_it(admin_config, data_dir):  # noqa: F811
    config = replace(admin_config, frame_ancestors=("https://portal.example",))
    env = clean_environ(REPORT_ADMIN_PASSWORD=ADMIN_PASSWORD)
    resp = make_app(config, data_dir, env).server.test_client().get("/funnels")
    assert resp.headers["Content-Security-Policy"].endswith("; frame-ancestors https://portal.example")
    assert "X-Frame-Options" not in resp.headers
    env["REPORT_FRAME_ANCESTORS"] = "'none'"  # the variable wins: framing off again on this host
    resp = make_app(config, data_dir, env).server.test_client().get("/funnels")
    assert "frame-ancestors 'none'" in resp.headers["Content-Security-Policy"]
    assert resp.headers["X-Frame-Options"] == "DENY"


VIEW = ViewState(tab="funnels").to_store()


def _match_payload(deps, output_type: str, input_id: dict, value: object) -> dict:
    dep = next(d for d in deps if f'"type":"{output_type}"' in d["output"])
    many = dep["output"].startswith("..")
    keys = [k.rsplit(".", 1) for k in (dep["output"][2:-2].split("...") if many else [dep["output"]])]
    outputs = [{"id": {**json.loads(i), "panel": input_id["panel"]}, "property": p} for i, p in keys]
    return {
        "output": dep["output"],
        "outputs": outputs if many else outputs[0],
        "inputs": [{"id": input_id, "property": dep["inputs"][0]["property"], "value": value}],
        "changedPropIds": [
            json.dumps(input_id, sort_keys=True, separators=(",", ":")) + "." + dep["inputs"][0]["property"]
        ],
        "state": [{"id": st["id"], "property": st["property"], "value": VIEW} for st in dep.get("state", [])],
    }


def test_a_panel_callback_as_the_renderer_sends_it_passes_the_payload_check(app_factory):
    """MATCH callbacks (a panel's body, its «показать все» switch) carry their ids as dicts: the
    check must let the renderer's own payload through and still refuse an id of another pattern."""
    client = app_factory().server.test_client()
    deps = client.get("/_dash-dependencies").json
    view = {"type": "panel-view", "panel": "created"}
    ok = client.post("/_dash-update-component", json=_match_payload(deps, "panel-slot", view, VIEW))
    assert ok.status_code in (200, 204), ok.get_data(as_text=True)[:300]
    switch = {"type": "show-all", "panel": "created"}
    ok = client.post("/_dash-update-component", json=_match_payload(deps, "panel-body", switch, False))
    assert ok.status_code != 400, ok.get_data(as_text=True)[:300]
    ghost = {"type": "dl-btn", "panel": "created"}
    bad = client.post("/_dash-update-component", json=_match_payload(deps, "panel-slot", ghost, None))
    assert bad.status_code == 400 and bad.json["error"] == "bad_callback_request"
