"""First start on a fresh machine: the demo snapshot is built before serving; the WSGI factory."""

from __future__ import annotations

import json

from etl.config import load_config
from etl.snapshot.store import current_id, open_current
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
