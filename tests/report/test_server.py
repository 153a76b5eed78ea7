"""First start on a fresh machine (demo snapshot), old snapshots rebuilt, the WSGI factory and gunicorn."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request

from bench import load
from etl import allocator
from etl.config import REPO_ROOT, load_config
from etl.snapshot.store import SCHEMA_VERSION, current_id, open_current
from report import server


def test_first_start_builds_the_demo_snapshot_once(tmp_path, monkeypatch):
    monkeypatch.delenv("AMOCRM_BASE_URL", raising=False)
    config = load_config()
    assert config.amocrm.base_url() is None  # no account configured: demo mode
    assert server.ensure_snapshot(config, tmp_path, None, demo_deals=400, demo_years=0.1)
    snaps = tmp_path / config.snapshots_dir
    first = current_id(snaps)
    snap = open_current(snaps)
    assert snap.row_counts["deals"] > 0 and snap.row_counts["entries"] > snap.row_counts["deals"]
    export = json.loads((tmp_path / "raw" / "export.json").read_text(encoding="utf-8"))
    assert export["demo"]["deals_per_year"] == 400  # a later refresh re-creates this very account
    # A second start serves what is there: no new build.
    assert server.ensure_snapshot(config, tmp_path, None, demo_deals=400, demo_years=0.1)
    assert current_id(snaps) == first


def test_wsgi_factory_serves_the_report_with_its_admin_panel(tmp_path, monkeypatch):
    config = load_config()
    server.ensure_snapshot(config, tmp_path, None, demo_deals=300, demo_years=0.1)
    monkeypatch.setenv("REPORT_DATA_DIR", str(tmp_path))
    client = server.wsgi().test_client()
    assert client.get("/time-between-statuses").status_code == 200
    layout = client.get("/_dash-layout").get_data(as_text=True)
    assert '"admin-refresh"' in layout  # the header's admin slot is filled
    # Admin endpoints are there and closed without credentials.
    assert client.post("/admin/refresh").status_code in (401, 403)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_serve_runs_gunicorn_with_keep_alive_and_no_resets_under_40_viewers(tmp_path):
    """`python -m report serve`: gunicorn gthread workers; 40 keep-alive clients pausing up to 2.5 s
    (past gunicorn's default 2 s keep-alive, which reset 156 of 700 requests in bench/load.py) see
    no reset."""
    config = load_config()
    server.ensure_snapshot(config, tmp_path, None, demo_deals=300, demo_years=0.1)
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REPORT_", "AMOCRM_"))}
    proc = subprocess.Popen(
        [sys.executable, "-m", "report", "serve", "--workers", "2", "--threads", "4", "--port", str(port),
         "--data-dir", str(tmp_path)],
        cwd=REPO_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/funnels", timeout=5) as resp:
                    assert resp.status == 200 and "frame-ancestors 'none'" in resp.headers["Content-Security-Policy"]
                break
            except OSError:
                assert proc.poll() is None and time.monotonic() < deadline, "gunicorn did not start"
                time.sleep(0.3)
        result = load.run(f"http://127.0.0.1:{port}", clients=40, seconds=6, max_pause=2.5)
        assert result["resets"] == 0 and result["other_errors"] == 0 and result["not_200"] == 0, result
        assert result["ok"] > 40 and result["server_closes"] == 0  # connections were kept, not closed
    finally:
        proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=60)
    assert b"gthread" in err and b"Listening at" in err


def test_gunicorn_settings_split_polars_threads_between_workers():
    cmd, env = server.gunicorn_command("0.0.0.0", 8050, workers=4, threads=8, cpu_count=8)
    assert cmd[cmd.index("--keep-alive") + 1] == "75" and cmd[cmd.index("--worker-class") + 1] == "gthread"
    assert "--preload" not in cmd and "report.server:wsgi()" in cmd
    assert env["POLARS_MAX_THREADS"] == "2"
    # the workers' polars returns freed memory within a second, as the ETL's does
    assert env["_RJEM_MALLOC_CONF"] == allocator.ENV["_RJEM_MALLOC_CONF"]


def _age_snapshot(snaps, version: int) -> None:
    manifest_path = snaps / current_id(snaps) / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    manifest["schema_version"] = version
    manifest_path.write_text(json.dumps(manifest), encoding="utf-8")


def test_an_old_schema_snapshot_is_rebuilt_from_the_raw_export_before_serving(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("AMOCRM_BASE_URL", raising=False)
    config = load_config()
    server.ensure_snapshot(config, tmp_path, None, demo_deals=300, demo_years=0.1)
    snaps = tmp_path / config.snapshots_dir
    old_id = current_id(snaps)
    _age_snapshot(snaps, 1 if SCHEMA_VERSION > 1 else 0)
    assert server.prepare(config, tmp_path, None, demo_deals=300, demo_years=0.1) == 0
    assert "снимок данных в старой схеме" in capsys.readouterr().err
    assert current_id(snaps) != old_id and server.snapshot_schema(snaps) == SCHEMA_VERSION
    open_current(snaps)  # the report can read it


def test_an_old_schema_snapshot_without_a_raw_export_stops_with_the_fix(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("AMOCRM_BASE_URL", raising=False)
    config = load_config()
    server.ensure_snapshot(config, tmp_path, None, demo_deals=300, demo_years=0.1)
    snaps = tmp_path / config.snapshots_dir
    _age_snapshot(snaps, 1 if SCHEMA_VERSION > 1 else 0)
    shutil.rmtree(tmp_path / "raw")
    assert server.main(["--data-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "no raw export" in err and f"python -m report.admin refresh --data-dir {tmp_path} --full" in err


def test_a_new_worker_knows_the_javascript_it_serves_before_its_first_request(tmp_path):
    """Dash registers the component libraries it serves during its first request, marking that done
    before doing it; a browser's parallel requests to a new gunicorn worker then found them
    unregistered (a 500 for dash_html_components.js, a blank page). build_app makes that first
    request itself, before any thread serves."""
    config = load_config()
    server.ensure_snapshot(config, tmp_path, None, demo_deals=300, demo_years=0.1)
    app = server.build_app(config, tmp_path)
    assert {"dash", "dash_bootstrap_components", "dash_ag_grid"} <= set(app.registered_paths)
    assert any("dash_html_components" in path for path in app.registered_paths["dash"])
