"""The URL of a view: one canonical encoding, and parsing that never fails on a bad link."""

from __future__ import annotations

from datetime import date

import pytest

from report.urlstate import Notice, ViewState, encode, href, parse, preset_dates

CITIES = ["Москва", "Казань", "Новосибирск"]
MANAGERS = [1, 2, 3, 4]


def p(path, query, **kw):
    return parse(path, query, known_cities=CITIES, known_managers=MANAGERS, **kw)


def test_root_opens_funnels_with_defaults():
    state, notices = p("/", "")
    assert state == ViewState()
    assert state.tab == "funnels" and state.period == "this_year" and state.grain == "month"
    assert notices == []
    assert encode(state) == ("/funnels", "")


@pytest.mark.parametrize(
    ("path", "tab"),
    [
        ("/funnels", "funnels"),
        ("/time-between-statuses", "time"),
        ("/touches-all", "touches_all"),
        ("/touches-office/", "touches_office"),  # a trailing slash is the same page
    ],
)
def test_each_tab_has_its_path(path, tab):
    state, notices = p(path, None)
    assert state.tab == tab and notices == []


def test_full_state_round_trips_through_its_canonical_url():
    state = ViewState(
        tab="touches_all",
        lang="en",
        period="custom",
        date_from=date(2026, 3, 1),
        date_to=date(2026, 5, 31),
        grain="week",
        cities=("Москва", "Казань"),
        managers=(3, 1),
        channel="office",
        funnel="flow",
        as_of=date(2026, 4, 15),
    )
    path, search = encode(state)
    assert path == "/touches-all"
    # fixed key order, sorted repeated lists, Cyrillic percent-encoded
    assert search == (
        "?from=2026-03-01&to=2026-05-31&grain=week"
        "&city=%D0%9A%D0%B0%D0%B7%D0%B0%D0%BD%D1%8C&city=%D0%9C%D0%BE%D1%81%D0%BA%D0%B2%D0%B0"
        "&manager=1&manager=3&channel=office&funnel=flow&asof=2026-04-15&lang=en"
    )
    again, notices = p(path, search)
    assert again == state and notices == []


def test_equal_views_give_equal_urls_whatever_the_order_chosen():
    a = ViewState(cities=("Москва", "Казань"), managers=(2, 1))
    b = ViewState(cities=("Казань", "Москва", "Казань"), managers=(1, 2))
    assert href(a) == href(b)


def test_lists_arrive_as_repeated_keys_comma_separated_a_string_or_a_list():
    expected = ("Казань", "Москва")
    assert p("/funnels", "?city=Москва&city=Казань")[0].cities == expected
    assert p("/funnels", "?city=Москва,Казань")[0].cities == expected
    assert p("/funnels", {"city": "Москва,Казань"})[0].cities == expected
    assert p("/funnels", {"city": ["Москва", "Казань"]})[0].cities == expected
    assert p("/funnels", {"manager": "2"})[0].managers == (2,)


def test_unknown_city_and_manager_are_dropped_with_a_notice():
    state, notices = p("/funnels", "?city=Москва&city=Атлантида&manager=2&manager=99&manager=abc")
    assert state.cities == ("Москва",)
    assert state.managers == (2,)
    assert notices == [Notice("city", "Атлантида"), Notice("manager", "99"), Notice("manager", "abc")]


def test_malformed_dates_drop_the_period_with_a_notice():
    state, notices = p("/time-between-statuses", "?from=2026-13-01&to=2026-02-01&grain=week")
    assert state.tab == "time" and state.grain == "week"  # the rest of the link still applies
    assert state.period == "this_year" and state.date_from is None
    assert Notice("from", "2026-13-01") in notices


def test_reversed_period_is_dropped_with_a_notice():
    state, notices = p("/funnels", "?from=2026-05-01&to=2026-04-01")
    assert state.period == "this_year"
    assert notices == [Notice("range", "2026-05-01 > 2026-04-01")]


def test_half_a_period_is_dropped_with_a_notice():
    state, notices = p("/funnels", "?from=2026-05-01")
    assert state.period == "this_year"
    assert notices == [Notice("period_incomplete", "")]


def test_unknown_values_fall_back_to_defaults_with_notices():
    state, notices = p("/nowhere", "?grain=fortnight&channel=mail&period=decade&lang=de&funnel=x&asof=yesterday")
    assert state == ViewState()
    assert [n.key for n in notices] == ["path", "lang", "grain", "channel", "funnel", "period", "asof"]


def test_unknown_keys_are_ignored_silently():
    state, notices = p("/funnels", "?utm_source=chat&grain=day")
    assert state.grain == "day" and notices == []


def test_default_language_comes_from_config_and_is_not_written():
    state, _ = p("/funnels", "", default_lang="en")
    assert state.lang == "en"
    assert encode(state, default_lang="en") == ("/funnels", "")
    assert encode(state.with_(lang="ru"), default_lang="en") == ("/funnels", "?lang=ru")


def test_preset_is_written_by_name_not_by_dates():
    assert encode(ViewState(period="last_month")) == ("/funnels", "?period=last_month")
    state, notices = p("/funnels", "?period=last_month")
    assert state.period == "last_month" and notices == []


def test_repeated_scalar_key_takes_the_last_value():
    assert p("/funnels", "?grain=day&grain=week")[0].grain == "week"


def test_store_round_trip():
    state = ViewState(tab="time", period="custom", date_from=date(2026, 1, 1), date_to=date(2026, 1, 31), managers=(2,))
    assert ViewState.from_store(state.to_store()) == state
    assert ViewState.from_store(None) == ViewState()


# Presets: weeks start on Monday; 2026-06-30 is a Tuesday in the third quarter's eve.
TODAY = date(2026, 6, 30)


@pytest.mark.parametrize(
    ("preset", "expected"),
    [
        ("today", (date(2026, 6, 30), date(2026, 6, 30))),
        ("last_7_days", (date(2026, 6, 24), date(2026, 6, 30))),
        ("this_week", (date(2026, 6, 29), date(2026, 6, 30))),
        ("last_week", (date(2026, 6, 22), date(2026, 6, 28))),
        ("this_month", (date(2026, 6, 1), date(2026, 6, 30))),
        ("last_month", (date(2026, 5, 1), date(2026, 5, 31))),
        ("this_quarter", (date(2026, 4, 1), date(2026, 6, 30))),
        ("last_quarter", (date(2026, 1, 1), date(2026, 3, 31))),
        ("this_year", (date(2026, 1, 1), date(2026, 6, 30))),
        ("last_year", (date(2025, 1, 1), date(2025, 12, 31))),
    ],
)
def test_preset_dates(preset, expected):
    assert preset_dates(preset, TODAY) == expected


def test_this_periods_end_at_the_data_date_not_the_calendar_end():
    # Data as of 04.12.2026 (a Friday): "this year" is 1 January to 4 December, not to 31 December.
    data_date = date(2026, 12, 4)
    assert preset_dates("this_year", data_date) == (date(2026, 1, 1), data_date)
    assert preset_dates("this_quarter", data_date) == (date(2026, 10, 1), data_date)
    assert preset_dates("this_month", data_date) == (date(2026, 12, 1), data_date)
    assert preset_dates("this_week", data_date) == (date(2026, 11, 30), data_date)
    assert preset_dates("last_month", data_date) == (date(2026, 11, 1), date(2026, 11, 30))


def test_last_quarter_and_month_cross_the_year():
    assert preset_dates("last_quarter", date(2026, 2, 10)) == (date(2025, 10, 1), date(2025, 12, 31))
    assert preset_dates("last_month", date(2026, 1, 10)) == (date(2025, 12, 1), date(2025, 12, 31))


def test_office_tab_fixes_the_pipeline_class():
    state = ViewState(tab="touches_office", channel="contact_center")
    assert state.filters(TODAY).channel == "office"
    assert ViewState(tab="touches_all", channel="contact_center").filters(TODAY).channel == "contact_center"


def test_filters_carry_the_view():
    state = ViewState(period="last_month", grain="week", cities=("Москва",), managers=(1,), as_of=date(2026, 5, 15))
    f = state.filters(TODAY)
    assert (f.date_from, f.date_to, f.grain, f.cities, f.managers, f.as_of) == (
        date(2026, 5, 1),
        date(2026, 5, 31),
        "week",
        ("Москва",),
        (1,),
        date(2026, 5, 15),
    )


def test_many_unknown_cities_fold_into_one_short_notice():
    """5 000 unknown cities: three are named, the rest counted («и ещё 4 997»), the known one kept."""
    query = "?" + "&".join(f"city=Nowhere{i}" for i in range(5000)) + "&city=Москва"
    state, notices = p("/funnels", query)
    assert state.cities == ("Москва",)
    assert notices == [Notice("city", "Nowhere0, Nowhere1, Nowhere2 и ещё 4\u00a0997")]
    _state, notices_en = p("/funnels", query + "&lang=en")
    assert notices_en == [Notice("city", "Nowhere0, Nowhere1, Nowhere2 and 4,997 more")]


def test_three_unknown_managers_are_still_listed_one_by_one_and_long_values_are_cut():
    _state, notices = p("/funnels", "?manager=97&manager=98&manager=99&city=" + "Я" * 100)
    assert notices == [
        Notice("city", "Я" * 39 + "…"),
        Notice("manager", "97"),
        Notice("manager", "98"),
        Notice("manager", "99"),
    ]


def test_hours_switch_round_trips_and_reaches_the_filters():
    state = ViewState(tab="time", hours="business")
    path, search = encode(state)
    assert (path, search) == ("/time-between-statuses", "?hours=business")
    again, notices = p(path, search)
    assert again == state and notices == []
    assert again.filters(TODAY).hours == "business"
    assert ViewState.from_store(state.to_store()) == state
    # calendar hours are the default: not written; an unknown value is dropped with a notice
    assert encode(ViewState(tab="time"))[1] == ""
    dropped, notices = p("/time-between-statuses", "?hours=night")
    assert dropped.hours == "calendar" and [n.key for n in notices] == ["hours"]


def test_compare_switch_round_trips_in_its_canonical_place():
    state = ViewState(tab="funnels", grain="week", compare="previous", lang="en")
    path, search = encode(state)
    assert (path, search) == ("/funnels", "?grain=week&compare=previous&lang=en")
    again, notices = p(path, search)
    assert again == state and notices == []
    assert again.compare_mode == "previous"
    assert ViewState.from_store(state.to_store()) == state
    year, _ = p("/funnels", "?compare=year")
    assert year.compare_mode == "year" and encode(year)[1] == "?compare=year"
    # off is the default: not written; an unknown value is dropped with a notice
    assert encode(ViewState())[1] == "" and ViewState().compare_mode is None
    dropped, notices = p("/funnels", "?compare=decade")
    assert dropped.compare == "none" and [n.key for n in notices] == ["compare"]


def test_contact_centre_switch_is_in_the_url_and_only_the_office_tab_leaves_it_out():
    office = ViewState(tab="touches_office")
    assert office.filters(TODAY).cc_managers is False  # office managers only by default
    shown = office.with_(cc=True)
    path, search = encode(shown)
    assert search == "?cc=1"
    again, notices = p(path, search)
    assert again == shown and notices == [] and again.filters(TODAY).cc_managers is True
    assert ViewState(tab="touches_all").filters(TODAY).cc_managers is True  # other tabs: everyone
    dropped, notices = p(path, "?cc=yes")
    assert dropped.cc is False and [n.key for n in notices] == ["cc"]
