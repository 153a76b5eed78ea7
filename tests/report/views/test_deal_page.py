"""``/deal/<id>``: the report's own deal card over HTTP (Flask test client) — the March account's
deal #1 (metric_snapshots.py), unknown and non-numeric ids, and the viewer-key gate."""

from __future__ import annotations

import pytest

from etl.config import load_config
from report.app import create_app
from report.i18n import stage_label
from tests.report.admin.admin_fixtures import VIEWER_KEY, clean_environ
from tests.report.metrics.metric_snapshots import MARCH, MARCH_USERS, write_snapshot


@pytest.fixture
def app_with(tmp_path):
    snap = write_snapshot(tmp_path / "snaps", MARCH, users=MARCH_USERS)

    def make(**env: str):
        from report import admin

        config = load_config()
        app = create_app(config, tmp_path / "data", snapshot_loader=lambda: snap, metric_cache=False)
        admin.install(app, config, tmp_path / "data", environ=clean_environ(**env))
        return app.server.test_client()

    return make


def test_a_deal_card_shows_the_deal_its_stage_and_its_timeline(app_with):
    resp = app_with().get("/deal/1")
    assert resp.status_code == 200 and resp.mimetype == "text/html"
    page = resp.get_data(as_text=True)
    assert "Сделка 1" in page
    assert stage_label("contract", "ru") in page and "Заключён договор" in page  # #1's stage and status now
    assert "Анна Петрова" in page  # the manager (staff)
    assert "100 000 ₽" in page and "Стандарт" in page
    # the timeline in Moscow time: created 01.03 01:00 into «Неразобранное», moved to the contact centre on 04.03
    assert "01.03.2026 01:00" in page and "04.03.2026 10:00" in page and "Контакт-центр" in page
    assert page.count("<tr><td>") == 7  # seven status entries
    assert "/assets/bootstrap.min.css" in page and "https://" not in page  # the app's Bootstrap, no CDN
    assert (
        resp.headers["X-Content-Type-Options"] == "nosniff"
        and "frame-ancestors" in resp.headers["Content-Security-Policy"]
    )


def test_the_card_in_english(app_with):
    page = app_with().get("/deal/1?lang=en").get_data(as_text=True)
    assert 'lang="en"' in page and "Deal 1" in page and "Status changes" in page and "Contract" in page


@pytest.mark.parametrize("raw", ["999999", "abc", "1e3", "１", "<img src=x onerror=alert(1)>", "9" * 40])
def test_an_unknown_or_non_numeric_id_is_a_404_with_a_sentence(app_with, raw):
    resp = app_with().get(f"/deal/{raw}")
    assert resp.status_code == 404
    page = resp.get_data(as_text=True)
    assert "В данных отчёта нет сделки" in page
    assert "<img" not in page  # the id as typed is escaped


def test_behind_the_viewer_key_the_card_is_refused_like_the_tabs(app_with):
    client = app_with(REPORT_VIEWER_KEY=VIEWER_KEY)
    for path in ("/deal/1", "/funnels"):
        resp = client.get(path)
        assert resp.status_code == 403 and "только по ссылке с ключом доступа" in resp.get_data(as_text=True)
    assert client.get(f"/deal/1?key={VIEWER_KEY}").status_code == 303  # the key opens it, then the cookie
    assert client.get("/deal/1").status_code == 200
