"""A real refresh: supervisor + ``python -m etl refresh`` against the emulator over loopback HTTP.

The old snapshot is tests/etl/tiny_export.py's (data as of 15.03.2026 03:00 Moscow); the emulator
serves the same tiny account, whose refresh publishes a snapshot "as of" the moment of the pull.
"""

from __future__ import annotations

import json
import os
import threading
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from admin_fixtures import (
    ADMIN_PASSWORD,
    dash_post,
    emulator_env,
    login,
    make_app,
    wait_for_stage,
    wait_until_finished,
)

from etl.snapshot.store import current_id, list_snapshots
from report.admin import ids, jobs
from report.admin.texts import result_text

AUTH = ("admin", ADMIN_PASSWORD)
OLD_AS_OF = "Данные на 15.03.2026 03:00"


def snapshots(config, data_dir):
    return data_dir / config.snapshots_dir


def poll_dash(client, state):
    """The panel's status callback, posted as the browser's interval tick would."""
    deps = client.get("/_dash-dependencies").json
    dep = next(d for d in deps if f"{ids.PROGRESS}.value" in d["output"])
    outputs = [
        {"id": o.split(".")[0], "property": o.split("@")[0].split(".")[1]}
        for o in dep["output"].strip(".").split("...")
    ]
    payload = {
        "output": dep["output"],
        "outputs": outputs,
        "inputs": [
            {"id": ids.INTERVAL, "property": "n_intervals", "value": 1},
            {"id": ids.JOB, "property": "data", "value": None},
        ],
        "changedPropIds": [f"{ids.INTERVAL}.n_intervals"],
        "state": [{"id": "view-state", "property": "data", "value": state}],
    }
    resp = client.post("/_dash-update-component", json=payload, headers={"Origin": "http://localhost"})
    assert resp.status_code == 200
    return json.dumps(resp.json, ensure_ascii=False)


def data_as_of_shown(client):
    """The header's "data as of" line, from the report's own page callback (what a browser gets)."""
    deps = client.get("/_dash-dependencies").json
    dep = next(d for d in deps if "data-as-of.children" in d["output"])
    outputs = [
        {"id": o.split(".")[0], "property": o.split("@")[0].split(".")[1]}
        for o in dep["output"].strip(".").split("...")
    ]
    from report.urlstate import ViewState

    payload = {
        "output": dep["output"],
        "outputs": outputs,
        "inputs": [{"id": "view-state", "property": "data", "value": ViewState().to_store()}],
        "changedPropIds": ["view-state.data"],
        "state": [],
    }
    resp = client.post("/_dash-update-component", json=payload)
    assert resp.status_code == 200, resp.get_data(as_text=True)[:500]
    return json.dumps(resp.json["response"]["data-as-of"], ensure_ascii=False)


def test_an_admin_refresh_from_the_ui_publishes_a_new_snapshot_that_the_report_then_shows(
    admin_config, data_dir, emulator
):
    app = make_app(admin_config, data_dir, emulator_env(emulator, REPORT_ADMIN_PASSWORD=ADMIN_PASSWORD))
    client = app.server.test_client()
    old_id = current_id(snapshots(admin_config, data_dir))
    assert OLD_AS_OF in data_as_of_shown(client)
    login(client)

    started = json.dumps(dash_post(client, ids.REFRESH).json, ensure_ascii=False)
    assert "Запуск обновления" in started and "refresh_id" in started
    before = datetime.now(UTC)
    st = wait_until_finished(data_dir)

    last = st["last"]
    assert last["result"] == "succeeded", last
    new_id = current_id(snapshots(admin_config, data_dir))
    assert new_id != old_id and last["snapshot_id"] == new_id
    # The app re-reads CURRENT: the header now says the data is as of the pull (this minute, Moscow).
    shown = data_as_of_shown(client)
    assert OLD_AS_OF not in shown
    assert f"Данные на {before.astimezone(ZoneInfo('Europe/Moscow')):%d.%m.%Y}" in shown
    assert app.server.config["REPORT_SOURCE"].get().snap.id == new_id
    # The admin sees the result in words.
    assert "Данные обновлены:" in poll_dash(client, {"lang": "ru"})
    # One audit line: who, how, records (tiny_export.py has 3 users, 2 pipelines, 3 contacts).
    audit = jobs.read_audit(jobs.RefreshPaths.of(data_dir))
    assert len(audit) == 1
    rec = audit[0]
    assert (rec["who"], rec["via"], rec["result"]) == ("admin", "ui", "succeeded")
    assert rec["records"]["users"] == 3 and rec["records"]["pipelines"] == 2 and rec["records"]["contacts"] == 3
    assert rec["records_pulled"] == sum(rec["records"].values())
    assert rec["started_at"] <= rec["finished_at"] and rec["duration_s"] >= 0
    text = jobs.RefreshPaths.of(data_dir).audit.read_text(encoding="utf-8")
    assert ADMIN_PASSWORD not in text and emulator.token not in text


def test_two_refreshes_started_at_once_run_once(admin_config, data_dir, emulator):
    app = make_app(admin_config, data_dir, emulator_env(emulator, REPORT_ADMIN_PASSWORD=ADMIN_PASSWORD))
    barrier = threading.Barrier(2)
    answers = []

    def press():
        client = app.server.test_client()
        barrier.wait()
        answers.append(client.post("/admin/refresh", auth=AUTH))

    threads = [threading.Thread(target=press) for _ in range(2)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    bodies = sorted((a.json for a in answers), key=lambda b: b["joined"])
    assert [b["joined"] for b in bodies] == [False, True]
    assert bodies[0]["refresh_id"] == bodies[1]["refresh_id"]
    assert sorted(a.status_code for a in answers) == [200, 202]
    st = wait_until_finished(data_dir)
    assert st["last"]["result"] == "succeeded"
    assert len(jobs.read_audit(jobs.RefreshPaths.of(data_dir))) == 1
    # The emulator saw one pull: the account was asked for once.
    account_calls = [e for e in emulator.request_log() if e.path == "/api/v4/account"]
    assert len(account_calls) == 1
    assert len(list_snapshots(snapshots(admin_config, data_dir))) == 2  # the old one and one new


FAULTS = [
    # (name, emulator faults, token ttl (None = the emulator's long-lived one), error kind, words shown)
    ("outage mid-pull", {"fail_after": 4, "error_status": 503}, None, "network", "amoCRM недоступен"),
    ("expired token, no refresh token", {}, -60, "auth", "amoCRM не принял токен доступа"),
    ("HTML 403 block", {"block": True}, None, "blocked", "amoCRM заблокировал доступ"),
]


@pytest.mark.parametrize(("name", "faults", "ttl", "kind", "words"), FAULTS, ids=[f[0] for f in FAULTS])
def test_a_failed_refresh_keeps_the_old_snapshot_and_says_why(
    admin_config, data_dir, emulator, name, faults, ttl, kind, words
):
    token = emulator.issue_token(ttl_s=ttl) if ttl is not None else None
    emulator.set_faults(**faults)
    app = make_app(admin_config, data_dir, emulator_env(emulator, token, REPORT_ADMIN_PASSWORD=ADMIN_PASSWORD))
    client = app.server.test_client()
    old_id = current_id(snapshots(admin_config, data_dir))
    assert client.post("/admin/refresh", auth=AUTH).status_code == 202
    wait_until_finished(data_dir)

    status = client.get("/admin/refresh/status", auth=AUTH).json
    last = status["last"]
    assert last["result"] == "failed" and last["error"]["kind"] == kind, last
    assert words in result_text(last, "ru")
    assert status["current_snapshot_id"] == old_id
    assert current_id(snapshots(admin_config, data_dir)) == old_id
    assert list_snapshots(snapshots(admin_config, data_dir)) == [old_id]
    assert OLD_AS_OF in data_as_of_shown(client)  # still served
    login(client)
    shown = poll_dash(client, {"lang": "ru"})
    assert "Обновление не удалось" in shown and words in shown and "Показываются прежние данные" in shown
    assert (token or emulator.token) not in json.dumps(status) and (token or emulator.token) not in shown


def test_cancel_stops_the_child_and_leaves_no_half_snapshot(admin_config, data_dir, emulator):
    emulator.set_faults(slow_s=0.5)  # 11 requests: about 6 s of pulling, time enough to cancel
    app = make_app(admin_config, data_dir, emulator_env(emulator, REPORT_ADMIN_PASSWORD=ADMIN_PASSWORD))
    client = app.server.test_client()
    snaps = snapshots(admin_config, data_dir)
    old_id = current_id(snaps)
    rid = client.post("/admin/refresh", auth=AUTH).json["refresh_id"]
    wait_for_stage(data_dir, lambda r: r.get("collection") is not None)
    child_pid = jobs.read_json(jobs.RefreshPaths.of(data_dir).current)["child_pid"]

    resp = client.post("/admin/refresh/cancel", auth=AUTH)
    assert resp.status_code == 200 and resp.json == {"refresh_id": rid, "cancelling": True}
    st = wait_until_finished(data_dir)

    assert st["last"]["result"] == "cancelled"
    assert "отменено" in result_text(st["last"], "ru")
    with pytest.raises(ProcessLookupError):
        os.kill(child_pid, 0)
    assert current_id(snaps) == old_id
    assert list_snapshots(snaps) == [old_id]
    assert not list(snaps.glob(".tmp-*"))
    assert client.post("/admin/refresh/cancel", auth=AUTH).status_code == 409  # nothing left to cancel


def test_after_a_refresh_cached_metrics_of_the_old_snapshot_are_not_served(
    admin_config, data_dir, admin_template, tmp_path
):
    """tiny_export.py has 9 deals created 1–10 March 2026, #4 deleted, so 8 count (tests/etl/test_build.py);
    the account the emulator now serves has lost deal #9, so the new snapshot counts 7: a cache keyed
    without the snapshot id would still say 8."""
    from datetime import date

    from etl.simulated.emulator import load_raw_view, start_emulator
    from report.cache import MetricCache
    from report.metrics.filters import Filters

    view = load_raw_view(admin_template["raw"])
    view["leads"] = [lead for lead in view["leads"] if lead["id"] != 9]
    cache = MetricCache(tmp_path / "cache", 50 * 2**20)
    year = Filters(date_from=date(2026, 1, 1), date_to=date(2026, 12, 31))
    with start_emulator(view) as emu:
        app = make_app(admin_config, data_dir, emulator_env(emu, REPORT_ADMIN_PASSWORD=ADMIN_PASSWORD))
        source = app.server.config["REPORT_SOURCE"]
        old = cache.compute(source.get().snap, "deals.created", year)
        assert old["deals"].sum() == 8
        assert app.server.test_client().post("/admin/refresh", auth=AUTH).status_code == 202
        assert wait_until_finished(data_dir)["last"]["result"] == "succeeded"
    new_snap = source.get().snap
    assert new_snap.id == current_id(snapshots(admin_config, data_dir))
    assert cache.compute(new_snap, "deals.created", year)["deals"].sum() == 7
    assert (cache.hits, cache.misses) == (0, 2)
    cache.close()


def test_a_refresh_stuck_in_a_request_is_killed_after_the_cancel_timeout(admin_config, data_dir, emulator):
    """amoCRM hangs (every answer takes 30 s): SIGTERM cannot stop a request in flight, SIGKILL does."""
    emulator.set_faults(slow_s=30)
    app = make_app(
        admin_config,
        data_dir,
        emulator_env(emulator, REPORT_ADMIN_PASSWORD=ADMIN_PASSWORD, REPORT_REFRESH_CANCEL_TIMEOUT="1"),
    )
    client = app.server.test_client()
    old_id = current_id(snapshots(admin_config, data_dir))
    client.post("/admin/refresh", auth=AUTH)
    wait_for_stage(data_dir, lambda r: r.get("collection") is not None)
    child_pid = jobs.read_json(jobs.RefreshPaths.of(data_dir).current)["child_pid"]
    assert client.post("/admin/refresh/cancel", auth=AUTH).status_code == 200
    last = wait_until_finished(data_dir, limit_s=20)["last"]
    assert last["result"] == "cancelled" and last["exit_code"] == -9
    with pytest.raises(ProcessLookupError):
        os.kill(child_pid, 0)
    assert current_id(snapshots(admin_config, data_dir)) == old_id
    progress = jobs.read_json(jobs.RefreshPaths.of(data_dir).progress(last["refresh_id"]))
    assert progress["state"] == "cancelled"  # the supervisor wrote the end the killed child could not


def test_the_command_line_refresh_shares_the_lock_and_the_audit(admin_config, admin_template, data_dir, emulator):
    import subprocess
    import sys

    from etl.config import REPO_ROOT

    env = emulator_env(emulator, PYTHONPATH=str(REPO_ROOT))
    cmd = [sys.executable, "-m", "report.admin", "refresh", "--data-dir", str(data_dir)]
    cmd += ["--config", str(admin_template["config"])]
    proc = subprocess.run(cmd, env=env, cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Данные обновлены:" in proc.stdout
    (rec,) = jobs.read_audit(jobs.RefreshPaths.of(data_dir))
    assert (rec["who"], rec["via"], rec["result"]) == ("cli", "cli", "succeeded")
    assert rec["snapshot_id"] == current_id(snapshots(admin_config, data_dir))


def test_the_web_joins_a_refresh_started_by_another_process(admin_config, admin_template, data_dir, emulator):
    """The lock is host-wide: a refresh started from the CLI (another process) is joined, not doubled."""
    import subprocess
    import sys

    from etl.config import REPO_ROOT

    emulator.set_faults(slow_s=0.3)  # keeps the CLI's refresh running while the web button is pressed
    env = emulator_env(emulator, PYTHONPATH=str(REPO_ROOT))
    cmd = [sys.executable, "-m", "report.admin", "refresh", "--no-wait", "--data-dir", str(data_dir)]
    cmd += ["--config", str(admin_template["config"])]
    out = subprocess.run(cmd, env=env, cwd=REPO_ROOT, capture_output=True, text=True, timeout=60, check=True).stdout
    cli_id = out.split()[-1]
    assert out.startswith("started ")
    app = make_app(admin_config, data_dir, emulator_env(emulator, REPORT_ADMIN_PASSWORD=ADMIN_PASSWORD))
    resp = app.server.test_client().post("/admin/refresh", auth=AUTH)
    assert resp.status_code == 200 and resp.json == {"refresh_id": cli_id, "state": "running", "joined": True}
    assert wait_until_finished(data_dir)["last"]["result"] == "succeeded"
    assert [r["who"] for r in jobs.read_audit(jobs.RefreshPaths.of(data_dir))] == ["cli"]


def test_the_publish_guard_reaches_the_admin_and_force_passes_through(admin_config, admin_template, data_dir, emulator):
    """``python -m report.admin refresh`` under a config that unmaps the funnel statuses: refused
    with kind ``guard`` in the audit; ``--force`` goes through the supervisor to the refresh."""
    import subprocess
    import sys

    import yaml

    from etl.config import REPO_ROOT

    cfg = yaml.safe_load(admin_template["config"].read_text(encoding="utf-8"))
    cfg["stages"] = {"won": [142], "lost": [143]}  # every other status renamed in amoCRM
    renamed = data_dir.parent / "renamed.yaml"
    renamed.write_text(yaml.safe_dump(cfg, allow_unicode=True), encoding="utf-8")
    old_id = current_id(snapshots(admin_config, data_dir))
    env = emulator_env(emulator, PYTHONPATH=str(REPO_ROOT))
    cmd = [sys.executable, "-m", "report.admin", "refresh", "--data-dir", str(data_dir), "--config", str(renamed)]
    refused = subprocess.run(cmd, env=env, cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
    assert refused.returncode == 1 and "Traceback" not in refused.stdout + refused.stderr
    assert "новый снимок потерял бы слишком много данных" in refused.stdout
    (rec,) = jobs.read_audit(jobs.RefreshPaths.of(data_dir))
    assert (
        rec["result"] == "failed" and rec["error"]["kind"] == "guard" and "publish refused" in rec["error"]["message"]
    )
    assert current_id(snapshots(admin_config, data_dir)) == old_id

    forced = subprocess.run([*cmd, "--force"], env=env, cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
    assert forced.returncode == 0, forced.stdout + forced.stderr
    assert current_id(snapshots(admin_config, data_dir)) != old_id
