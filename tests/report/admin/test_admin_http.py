"""The server enforces the roles: HTTP API, viewer gate, login, and the Dash callback posted as a browser would.

No refresh runs in these tests (the amoCRM settings point nowhere): every request here must be
refused or answered before a job would start, and the tests check that none did.
"""

from __future__ import annotations

import html
import json
import logging
import re
from urllib.parse import unquote

import pytest
from admin_fixtures import ADMIN_PASSWORD, VIEWER_KEY, clean_environ, dash_post, login, logout, make_app

from report.admin import ids, jobs
from report.admin.routes import _RedactKeyFilter

ENDPOINTS = [("post", "/admin/refresh"), ("get", "/admin/refresh/status"), ("post", "/admin/refresh/cancel")]


@pytest.fixture
def app_factory(admin_config, data_dir):
    def make(**env: str):
        return make_app(admin_config, data_dir, clean_environ(**env))

    return make


def no_refresh_started(data_dir) -> bool:
    paths = jobs.RefreshPaths.of(data_dir)
    return not paths.current.exists() and not list(paths.root.glob("*.json")) and not paths.audit.exists()


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_admin_endpoints_answer_401_without_credentials(app_factory, data_dir, method, path):
    client = app_factory(REPORT_ADMIN_PASSWORD=ADMIN_PASSWORD).server.test_client()
    resp = getattr(client, method)(path)
    assert resp.status_code == 401
    assert resp.headers["WWW-Authenticate"].startswith("Basic ")
    wrong = getattr(client, method)(path, auth=("admin", "not the password"))
    assert wrong.status_code == 401
    assert ADMIN_PASSWORD not in wrong.get_data(as_text=True)
    assert no_refresh_started(data_dir)


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_a_viewer_gets_403_from_admin_endpoints(app_factory, data_dir, method, path):
    client = app_factory(REPORT_ADMIN_PASSWORD=ADMIN_PASSWORD, REPORT_VIEWER_KEY=VIEWER_KEY).server.test_client()
    assert client.get(f"/funnels?key={VIEWER_KEY}").status_code == 303  # the viewer opens the shared link
    assert getattr(client, method)(path).status_code == 403
    assert getattr(client.application.test_client(), method)(f"{path}?key={VIEWER_KEY}").status_code == 403
    assert no_refresh_started(data_dir)


def test_viewer_key_gate_on_pages_and_callbacks(app_factory):
    app = app_factory(REPORT_VIEWER_KEY=VIEWER_KEY)
    client = app.server.test_client()
    page = client.get("/funnels")
    assert page.status_code == 403
    text = page.get_data(as_text=True)
    assert "только по ссылке с ключом доступа" in text and VIEWER_KEY not in text
    assert client.get("/_dash-layout").status_code == 403
    assert client.post("/_dash-update-component", json={}).status_code == 403
    assert client.get("/funnels?key=wrong").status_code == 403
    assert client.get("/assets/bootstrap.min.css").status_code == 200  # code and styles, no data
    assert client.get("/admin/login").status_code == 200  # an admin signs in without the viewer key
    assert client.get("/admin/anything-else").status_code == 403
    # The shared link: the key is taken, remembered in the session, and dropped from the address.
    first = client.get(f"/funnels?lang=en&key={VIEWER_KEY}")
    assert first.status_code == 303 and first.headers["Location"].endswith("/funnels?lang=en")
    assert client.get("/funnels?lang=en").status_code == 200
    assert client.get("/_dash-layout").status_code == 200
    # Another browser without the session is still refused.
    assert app.server.test_client().get("/_dash-layout").status_code == 403


def test_without_a_viewer_key_the_report_is_open(app_factory):
    client = app_factory().server.test_client()
    assert client.get("/funnels").status_code == 200
    assert client.get("/_dash-layout").status_code == 200


def test_no_admin_password_disables_admin_and_says_so(app_factory, data_dir):
    client = app_factory().server.test_client()
    page = client.get("/admin/login").get_data(as_text=True)
    assert "Вход администратора отключён" in page and "python -m report.admin refresh" in page
    resp = client.post("/admin/refresh", auth=("admin", ""))
    assert resp.status_code == 403 and resp.json["error"] == "admin_disabled"
    assert no_refresh_started(data_dir)


def test_login_then_logout(app_factory):
    app = app_factory(REPORT_ADMIN_PASSWORD=ADMIN_PASSWORD, REPORT_VIEWER_KEY=VIEWER_KEY)
    client = app.server.test_client()
    bad = login(client, password="guess")
    assert bad.status_code == 401 and "Неверное имя пользователя или пароль" in bad.get_data(as_text=True)
    ok = login(client)
    assert ok.status_code == 303 and ok.headers["Location"].endswith("/funnels")
    status = client.get("/admin/refresh/status")
    assert status.status_code == 200 and status.json["running"] is False
    assert client.get("/funnels").status_code == 200  # an admin needs no viewer key
    # The signed cookie carries no secret.
    cookie = client.get_cookie("session").value
    assert ADMIN_PASSWORD not in cookie and VIEWER_KEY not in cookie
    refused = client.post("/admin/logout")  # no CSRF token: a link or another site cannot sign out
    assert refused.status_code == 403 and refused.json["error"] == "csrf_failed"
    assert client.get("/admin/refresh/status").status_code == 200
    assert logout(client).status_code == 303
    assert client.get("/admin/refresh/status").status_code == 401


def test_login_form_without_its_csrf_token_is_refused(app_factory):
    client = app_factory(REPORT_ADMIN_PASSWORD=ADMIN_PASSWORD).server.test_client()
    resp = client.post("/admin/login", data={"user": "admin", "password": ADMIN_PASSWORD})
    assert resp.status_code == 400
    assert client.get("/admin/refresh/status").status_code == 401


def test_login_next_cannot_leave_the_site(app_factory):
    client = app_factory(REPORT_ADMIN_PASSWORD=ADMIN_PASSWORD).server.test_client()
    page = client.get("/admin/login?next=//evil.example/x").get_data(as_text=True)
    csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    resp = client.post(
        "/admin/login", data={"csrf": csrf, "user": "admin", "password": ADMIN_PASSWORD, "next": "https://evil.example"}
    )
    assert resp.status_code == 303 and resp.headers["Location"] in ("/", "http://localhost/")


@pytest.mark.parametrize("trigger", [ids.REFRESH, ids.CANCEL])
def test_the_dash_refresh_callback_refuses_without_the_admin_session(app_factory, data_dir, trigger):
    app = app_factory(REPORT_ADMIN_PASSWORD=ADMIN_PASSWORD)
    resp = dash_post(app.server.test_client(), trigger)
    assert resp.status_code == 200
    body = json.loads(resp.get_data(as_text=True))
    assert "Нет прав администратора" in json.dumps(body, ensure_ascii=False)
    assert ids.JOB not in body["response"]  # no job handed to the page
    assert no_refresh_started(data_dir)


def test_the_dash_refresh_callback_refuses_a_viewer_too(app_factory, data_dir):
    app = app_factory(REPORT_ADMIN_PASSWORD=ADMIN_PASSWORD, REPORT_VIEWER_KEY=VIEWER_KEY)
    client = app.server.test_client()
    client.get(f"/?key={VIEWER_KEY}")
    resp = dash_post(client, ids.REFRESH)
    assert resp.status_code == 200
    assert "Нет прав администратора" in json.dumps(resp.json, ensure_ascii=False)
    assert no_refresh_started(data_dir)


def test_the_key_is_redacted_from_request_logs():
    record = logging.LogRecord(
        "werkzeug", logging.INFO, "", 0, '"%s" %s %s', ("GET /?lang=en&key=abc HTTP/1.1", 303, "-"), None
    )
    _RedactKeyFilter().filter(record)
    assert record.getMessage() == '"GET /?lang=en&key=*** HTTP/1.1" 303 -'


def _find(node, component_id):
    """The props of the component with this id in a /_dash-layout tree."""
    if isinstance(node, dict):
        props = node.get("props", {})
        if props.get("id") == component_id:
            return props
        for child in (props.get("children"),) if "props" in node else node.values():
            found = _find(child, component_id)
            if found is not None:
                return found
    elif isinstance(node, list):
        for child in node:
            found = _find(child, component_id)
            if found is not None:
                return found
    return None


def test_the_panel_shows_refresh_controls_to_the_admin_only(app_factory):
    client = app_factory(REPORT_ADMIN_PASSWORD=ADMIN_PASSWORD).server.test_client()
    viewer = client.get("/_dash-layout").json
    assert _find(viewer, ids.CONTROLS)["style"] == {"display": "none"}
    assert _find(viewer, ids.LOGIN_LINK)["style"] == {}
    login(client)
    admin = client.get("/_dash-layout").json
    assert _find(admin, ids.CONTROLS)["style"]["display"] == "flex"
    assert _find(admin, ids.LOGIN_LINK)["style"] == {"display": "none"}
    assert _find(admin, ids.USER)["children"] == "Администратор: admin"
    assert _find(admin, ids.INTERVAL)["disabled"] is True  # nothing runs: no polling


def test_signing_in_returns_to_the_view_the_admin_came_from(app_factory):
    client = app_factory(REPORT_ADMIN_PASSWORD=ADMIN_PASSWORD).server.test_client()
    view = "/touches-all?period=last_month&cities=Казань"
    page = client.get("/admin/login", headers={"Referer": f"http://localhost{view}"}).get_data(as_text=True)
    csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    nxt = html.unescape(re.search(r'name="next" value="([^"]+)"', page).group(1))  # as the browser reads it
    resp = client.post("/admin/login", data={"csrf": csrf, "user": "admin", "password": ADMIN_PASSWORD, "next": nxt})
    assert resp.status_code == 303 and unquote(resp.headers["Location"]).endswith(view)


def test_a_page_opened_during_a_refresh_watches_it(app_factory, data_dir):
    """current.json names the running refresh: the admin's page polls it and will re-render when it lands."""
    paths = jobs.RefreshPaths.of(data_dir)
    paths.root.mkdir(parents=True, exist_ok=True)
    jobs.write_json(paths.current, {"refresh_id": "r-running", "pid": None, "who": "admin"})
    client = app_factory(REPORT_ADMIN_PASSWORD=ADMIN_PASSWORD).server.test_client()
    login(client)
    layout = client.get("/_dash-layout").json
    assert _find(layout, ids.INTERVAL)["disabled"] is False
    assert _find(layout, ids.JOB)["data"] == {"refresh_id": "r-running", "joined": True}
    assert _find(layout, ids.CANCEL)["style"] == {}


def test_password_guessing_is_stopped_after_five_failures(app_factory):
    client = app_factory(REPORT_ADMIN_PASSWORD=ADMIN_PASSWORD).server.test_client()
    for guess in range(5):
        assert client.get("/admin/refresh/status", auth=("admin", f"guess{guess}")).status_code == 401
    # Even the right password is refused now, from this address, for a while (5 minutes).
    assert client.get("/admin/refresh/status", auth=("admin", ADMIN_PASSWORD)).status_code == 429
    assert login(client).status_code == 429


def test_the_panel_follows_the_language_switch(app_factory):
    client = app_factory(REPORT_ADMIN_PASSWORD=ADMIN_PASSWORD).server.test_client()
    login(client)
    deps = client.get("/_dash-dependencies").json
    dep = next(d for d in deps if f"{ids.REFRESH}.children" in d["output"])
    outputs = [{"id": o.split(".")[0], "property": o.split(".")[1]} for o in dep["output"].strip(".").split("...")]
    payload = {
        "output": dep["output"],
        "outputs": outputs,
        "inputs": [{"id": "lang-switch", "property": "value", "value": "en"}],
        "changedPropIds": ["lang-switch.value"],
        "state": [],
    }
    headers = {"Origin": "http://localhost"}
    resp = client.post("/_dash-update-component", json=payload, headers=headers).json["response"]
    assert resp[ids.REFRESH]["children"] == "Refresh data"
    assert resp[ids.USER]["children"] == "Admin: admin"
    assert resp[ids.LOGIN_LINK]["href"] == "/admin/login?lang=en"
