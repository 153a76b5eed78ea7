"""An admin signs in, presses "refresh", watches the progress bar move and the "data as of" change.

The report starts on the hand-made fixture snapshot (data as of 30.06.2026 12:00 Moscow); the
emulator serves tests/etl/tiny_export.py's account, answering slowly (0.6 s a request: since the
pull asks only for the event types the build reads it makes fewer requests, and the pull must stay
on screen for several of the panel's 0.7 s polls); the refresh then publishes a snapshot "as of"
the moment of the pull.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from dash.testing.wait import until
from fixture_snapshot import publish_fixture

from etl.config import load_config
from etl.simulated.emulator import load_raw_view, start_emulator
from report import admin
from report import ids as report_ids
from report.admin import ids
from report.app import create_app
from tests.etl import tiny_export

PASSWORD = "browser-test-password"
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def emulator(tmp_path):
    raw = tmp_path / "raw-source"
    tiny_export.write(raw)
    handle = start_emulator(load_raw_view(raw), faults={"slow_s": 0.6})
    try:
        yield handle
    finally:
        handle.stop()


@pytest.fixture
def admin_app(tmp_path, emulator):
    data_dir = tmp_path / "data"
    publish_fixture(data_dir)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REPORT_", "AMOCRM_"))}
    env.update(AMOCRM_BASE_URL=emulator.url, AMOCRM_ACCESS_TOKEN=emulator.token, REPORT_ADMIN_PASSWORD=PASSWORD)
    # The tiny account has fewer deals, cities and stages than the fixture it replaces: the publish
    # guard would rightly hold it back (tests/etl/snapshot/test_guard.py); this test is about the
    # refresh, so its config lets any drop through.
    yaml = (REPO / "config.yaml").read_text(encoding="utf-8")
    assert "  max_drop: 0.2" in yaml
    config_file = tmp_path / "config.yaml"
    config_file.write_text(yaml.replace("  max_drop: 0.2", "  max_drop: 1.0"), encoding="utf-8")
    config = load_config(config_file)
    app = create_app(config, data_dir, extra_layout=admin.panel_layout)
    admin.install(app, config, data_dir, environ=env)
    return app


def progress_value(dash_duo) -> float:
    bar = dash_duo.find_element(f"#{ids.PROGRESS} .progress-bar, #{ids.PROGRESS}.progress-bar")
    return float(bar.get_attribute("aria-valuenow") or 0)


def test_admin_refreshes_and_sees_progress_then_new_data(dash_duo, admin_app):
    dash_duo.start_server(admin_app)
    # The sign-in link of the header leads here; a viewer never sees the refresh button (and the
    # server refuses its callback anyway: tests/report/admin/test_admin_http.py).
    dash_duo.driver.get(dash_duo.server_url + "/admin/login?next=/funnels")
    dash_duo.wait_for_element("#admin-login-user").send_keys("admin")
    dash_duo.find_element("#admin-login-password").send_keys(PASSWORD)
    dash_duo.find_element("#admin-login-submit").click()

    dash_duo.wait_for_contains_text(f"#{report_ids.DATA_AS_OF}", "Данные на 30.06.2026 12:00", timeout=30)
    until(lambda: dash_duo.find_element(f"#{ids.REFRESH}").is_displayed(), timeout=10)
    assert not dash_duo.find_element(f"#{ids.PROGRESS_WRAP}").is_displayed()
    pressed_at = datetime.now(UTC)
    dash_duo.find_element(f"#{ids.REFRESH}").click()

    # While pulling: the stage names the collection with counts, the bar is part-way.
    dash_duo.wait_for_contains_text(f"#{ids.STAGE}", "Загрузка из amoCRM:", timeout=30)
    until(lambda: 0 < progress_value(dash_duo) < 100, timeout=30)
    assert dash_duo.find_element(f"#{ids.CANCEL}").is_displayed()
    # Then done: the bar is full, the result is in words, and the header shows the new data.
    dash_duo.wait_for_contains_text(f"#{ids.RESULT}", "Данные обновлены:", timeout=60)
    assert progress_value(dash_duo) == 100
    new_day = pressed_at.astimezone(ZoneInfo("Europe/Moscow")).strftime("%d.%m.%Y")
    dash_duo.wait_for_contains_text(f"#{report_ids.DATA_AS_OF}", f"Данные на {new_day}", timeout=20)
    assert "30.06.2026" not in dash_duo.find_element(f"#{report_ids.DATA_AS_OF}").text
    assert not dash_duo.find_element(f"#{ids.CANCEL}").is_displayed()
    assert dash_duo.get_logs() == []
