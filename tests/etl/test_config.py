"""config.yaml is validated before anything runs: each problem named by key path and line, all at once.

Most cases edit one small config whose lines are easy to count by hand (:data:`MINIMAL`); the
messages asserted are what a user reads on the terminal.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from etl.config import REPO_ROOT, ConfigError, load_config

MINIMAL = """\
timezone: Europe/Moscow
stages:
  lead: [Новая заявка]
  won: [142, Успешно реализовано]
cities:
  Москва: Europe/Moscow
  Омск: Asia/Omsk
"""  # lines: 1 timezone, 2 stages, 3 lead, 4 won, 5 cities, 6 Москва, 7 Омск


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def problems(tmp_path: Path, text: str) -> str:
    """The ConfigError's message for a config with this text."""
    with pytest.raises(ConfigError) as err:
        load_config(write(tmp_path, text))
    return str(err.value)


def test_the_shipped_config_loads_as_documented():
    config = load_config()
    assert config.timezone == "Europe/Moscow" and config.locale == "ru"
    assert config.stage_of(142, "переименован") == "won" and config.stage_of(143, None) == "lost"
    assert config.stage_of(None, "  не пришел ") == "no_show"  # case, spaces and ё/е ignored
    assert config.stage_of(7, "Странный статус") == "other"
    assert config.channel_of(None, "Контакт-центр") == "contact_center" and config.channel_of(1, "Офис") == "office"
    assert (
        len(config.cities) == 33 and config.city_tz("Омск") == "Asia/Omsk" and config.city_tz(None) == "Europe/Moscow"
    )
    assert config.amocrm.rate_limit_per_s == 7.0 and config.amocrm.page_size == 250 and config.amocrm.subdomain == ""
    assert config.amocrm.env_name("token_file") == "AMOCRM_TOKEN_FILE"
    assert config.amocrm.base_url({}) is None  # no subdomain: demo mode
    assert config.amocrm.base_url({"AMOCRM_BASE_URL": "http://127.0.0.1:8765/"}) == "http://127.0.0.1:8765"
    assert (config.city_field, config.package_field, config.working_hours) == ("Город", "Пакет", ("09:00", "21:00"))
    assert (config.snapshots_dir, config.snapshots_keep, config.stale_after_hours) == ("snapshots", 3, 26.0)
    assert (config.cache_dir, config.cache_size_limit_mb, config.attribution_grace_minutes) == ("cache", 512, 10)
    assert config.publish_max_drop == 0.2 and config.frame_ancestors == ()


def test_a_minimal_config_gets_the_documented_defaults(tmp_path):
    config = load_config(write(tmp_path, MINIMAL + "users:\nsnapshots:\n"))  # empty sections are empty
    assert config.users == {} and config.snapshots_keep == 3 and config.amocrm.max_retries == 6
    assert config.amocrm.base_url({}) is None and config.package_field == ""
    assert config.stage_of(None, "новая заявка") == "lead" and config.stage_of(None, "Номер получен") == "other"


def test_an_unknown_key_is_refused_with_its_line_and_the_keys_allowed_there(tmp_path):
    message = problems(tmp_path, MINIMAL + "amocrm:\n  rate_limit: 5\n")
    assert "line 9: amocrm.rate_limit: unknown key" in message
    assert "known here: subdomain, domain, rate_limit_per_s, page_size" in message
    message = problems(tmp_path, MINIMAL.replace("  lead:", "  leads:"))
    assert "line 3: stages.leads: unknown key (known here: lead, phone, booked" in message


def test_a_wrong_type_is_refused_with_what_was_found(tmp_path):
    message = problems(tmp_path, MINIMAL + "amocrm:\n  page_size: many\n")
    assert "line 9: amocrm.page_size: Input should be a valid integer, got 'many'" in message
    message = problems(tmp_path, MINIMAL.replace("[142, Успешно", "[true, Успешно"))
    assert "line 4: stages.won[0]: expected a name or a numeric id, got True" in message
    message = problems(tmp_path, MINIMAL + "working_hours:\n  default:\n    start: 9:00\n")  # YAML 1.1: 540
    assert 'line 10: working_hours.default.start: write the time in quotes, e.g. "09:00"' in message


def test_a_number_out_of_range_is_refused(tmp_path):
    message = problems(tmp_path, MINIMAL + "amocrm:\n  rate_limit_per_s: 500\n")
    assert "line 9: amocrm.rate_limit_per_s: Input should be less than or equal to 50, got 500" in message


def test_a_bad_time_zone_is_refused(tmp_path):
    message = problems(tmp_path, MINIMAL.replace("Asia/Omsk", "Asia/Omks"))
    assert "line 7: cities.Омск: unknown time zone 'Asia/Omks'" in message
    message = problems(tmp_path, MINIMAL.replace("timezone: Europe/Moscow", "timezone: Moscow"))
    assert "line 1: timezone: unknown time zone 'Moscow'" in message


@pytest.mark.parametrize("text", ["", "# only comments\n\n"], ids=["empty", "comments-only"])
def test_an_empty_file_is_refused(tmp_path, text):
    message = problems(tmp_path, text)
    assert "line 1: the file is empty: it must map the account's statuses to stages and list the cities" in message


def test_a_config_mapping_no_status_is_refused(tmp_path):
    message = problems(tmp_path, MINIMAL.replace("[Новая заявка]", "[]").replace("[142, Успешно реализовано]", ""))
    assert "line 2: stages: no status is mapped to any stage" in message
    message = problems(tmp_path, "cities:\n  Москва: Europe/Moscow\n")  # no stages: section at all
    assert "line 1: stages: no status is mapped to any stage" in message


def test_a_config_listing_no_city_is_refused(tmp_path):
    message = problems(tmp_path, MINIMAL.replace("  Москва: Europe/Moscow\n  Омск: Asia/Omsk\n", ""))
    assert "line 5: cities: no city is listed" in message
    message = problems(tmp_path, MINIMAL.replace("cities:", "cities: {}\nold_cities:"))
    assert "line 5: cities: no city is listed" in message and "line 6: old_cities: unknown key" in message


def test_a_status_in_two_stages_is_refused(tmp_path):
    message = problems(tmp_path, MINIMAL.replace("  won: [142,", "  won: [Новая Заявка, 142,"))
    assert "line 2: stages: status 'Новая Заявка' is mapped to two stages, lead and won" in message


def test_a_key_written_twice_is_refused(tmp_path):
    message = problems(tmp_path, MINIMAL + "  Москва: Asia/Omsk\n")
    assert "line 8: cities.Москва: written twice (first on line 6); keep one" in message


def test_every_problem_is_listed_at_once_in_file_order(tmp_path):
    text = MINIMAL.replace("Asia/Omsk", "Asia/Omks") + "locale: de\nsnapshots:\n  keep: 0\n"
    message = problems(tmp_path, text)
    assert message.splitlines() == [
        f"invalid config {tmp_path / 'config.yaml'} (3 problems):",
        "  line 7: cities.Омск: unknown time zone 'Asia/Omks' (expected an IANA name such as Europe/Moscow)",
        "  line 8: locale: Input should be 'ru' or 'en', got 'de'",
        "  line 10: snapshots.keep: Input should be greater than or equal to 1, got 0",
    ]


def test_broken_yaml_names_its_line(tmp_path):
    message = problems(tmp_path, MINIMAL + "users: [1\n")
    assert "line 9: not valid YAML: while parsing a flow sequence (from line 8), expected ',' or ']'" in message


def test_the_build_cli_prints_the_problems_without_a_traceback(tmp_path):
    bad = write(tmp_path, MINIMAL.replace("Asia/Omsk", "Asia/Omks"))
    proc = subprocess.run(
        [sys.executable, "-m", "etl", "build", "--raw", str(tmp_path / "raw"), "--config", str(bad)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode != 0
    assert "line 7: cities.Омск: unknown time zone 'Asia/Omks'" in proc.stderr
    assert "Traceback" not in proc.stderr and not (tmp_path / "data").exists()


def test_working_hours_resolve_the_russian_calendar_into_the_settings(tmp_path):
    """RU (holidays 0.109): New Year 2026-01-01…08 and the moved day off 01-09 are days off, 9 May
    (Saturday) moves to Monday 11 May; Saturday 2025-11-01 was a working day.  The file's own dates
    are added; a Новосибирск override keeps the default's days and start."""
    text = MINIMAL + (
        "working_hours:\n  cities:\n    Омск: {end: '18:00'}\n  days_off: [2026-12-30]\n  work_days: ['2026-12-26']\n"
    )
    hours = load_config(write(tmp_path, text)).metric_settings()["working_hours"]
    assert {f"2026-01-0{day}" for day in range(1, 10)} | {"2026-05-11", "2026-12-30"} <= set(hours["days_off"])
    assert "2026-05-08" not in hours["days_off"] and {"2025-11-01", "2026-12-26"} <= set(hours["work_days"])
    assert hours["cities"]["Омск"] == {**hours["default"], "end": "18:00"}
    assert hours["contact_center"]["days"] == ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def test_working_hours_mistakes_are_refused_at_their_line(tmp_path):
    text = MINIMAL + "working_hours:\n  cities:\n    Тверь: {end: '18:00'}\n    Омск: {start: '22:00'}\n"
    message = problems(tmp_path, text)
    assert "line 10: working_hours.cities.Тверь: not a city of cities:" in message
    assert (
        "line 11: working_hours.cities.Омск: with working_hours.default: end 21:00 is not after start 22:00" in message
    )
    message = problems(tmp_path, MINIMAL + "working_hours:\n  calendar: XX\n  days_off: ['2026-13-01']\n")
    assert "line 9: working_hours.calendar: expected a country code" in message
    assert "line 10: working_hours.days_off[0]: expected a date YYYY-MM-DD" in message


def test_publish_guard_and_frame_ancestors_are_read_and_checked(tmp_path):
    extra = "publish_guard:\n  max_drop: 0.5\nsecurity:\n  frame_ancestors: [https://portal.example, 'https://*.corp.example:8443']\n"
    config = load_config(write(tmp_path, MINIMAL + extra))  # lines 8-11
    assert config.publish_max_drop == 0.5
    assert config.frame_ancestors == ("https://portal.example", "https://*.corp.example:8443")
    bad = 'publish_guard:\n  max_drop: 1.5\nsecurity:\n  frame_ancestors: ["https://a.example; script-src *"]\n'
    msg = problems(tmp_path, MINIMAL + bad)
    assert "line 9: publish_guard.max_drop: Input should be less than or equal to 1, got 1.5" in msg
    assert "line 11: security.frame_ancestors[0]: expected an origin such as https://portal.example" in msg


def test_the_report_base_url_is_optional_and_must_be_an_address(tmp_path):
    assert load_config().base_url == ""  # shipped: links from the request
    config = load_config(write(tmp_path, MINIMAL + "report:\n  base_url: https://report.example.ru/sales/\n"))
    assert config.base_url == "https://report.example.ru/sales"  # no trailing slash
    message = problems(tmp_path, MINIMAL + "report:\n  base_url: report.example.ru\n")
    assert "line 9: report.base_url: expected the report's address such as https://report.example.ru" in message
    message = problems(tmp_path, MINIMAL + "report:\n  base_url: https://x.ru/?a=1\n")
    assert "line 9: report.base_url:" in message
