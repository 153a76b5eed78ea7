"""The view state and its one canonical URL encoding (pure functions, no Dash).

A view = tab (the path) + filters + language (the query). ``parse`` never fails: a part it cannot
use (an unknown city, a malformed date) is dropped and reported as a :class:`Notice`, so a bad link
still opens. ``encode`` writes the canonical form: fixed key order, defaults omitted, lists sorted
and repeated (``city=A&city=B``); ``parse`` also accepts comma-separated lists and a value that
arrives as a string or a list.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, replace
from datetime import date, timedelta
from urllib.parse import parse_qsl, quote, urlencode

from report.metrics.filters import CHANNEL_FILTERS, GRAINS, HOURS, Filters

#: Tab id → URL path. ``/`` opens the first.
TAB_PATHS: dict[str, str] = {
    "funnels": "/funnels",
    "time": "/time-between-statuses",
    "touches_all": "/touches-all",
    "touches_office": "/touches-office",
}
PATH_TABS: dict[str, str] = {p: t for t, p in TAB_PATHS.items()}
PRESETS: tuple[str, ...] = (
    "today",
    "last_7_days",
    "this_week",
    "last_week",
    "this_month",
    "last_month",
    "this_quarter",
    "last_quarter",
    "this_year",
    "last_year",
    "custom",
)
FUNNEL_TYPES: tuple[str, ...] = ("cohort", "flow")
#: «Сравнить: нет / с прошлым периодом / с прошлым годом» (report.metrics.compare.MODES).
COMPARES: tuple[str, ...] = ("none", "previous", "year")
LANGS: tuple[str, ...] = ("ru", "en")
DEFAULT_PERIOD = "this_year"
DEFAULT_GRAIN = "month"
#: Unknown values of one key listed one by one; beyond that they fold into one notice ending in
#: «и ещё N», so a link with 5 000 unknown cities still opens with a short warning (issue 13).
MAX_LISTED = 3
#: A dropped value is shown at most this long (a notice quotes the URL, which can be anything).
MAX_VALUE_CHARS = 40


@dataclass(frozen=True)
class Notice:
    """A part of the URL that was dropped: ``key`` names the kind (see layout texts), ``value`` the text."""

    key: str
    value: str


@dataclass(frozen=True)
class ViewState:
    """Everything a URL can say. ``date_from``/``date_to`` are set only for ``period="custom"``."""

    tab: str = "funnels"
    lang: str = "ru"
    period: str = DEFAULT_PERIOD
    date_from: date | None = None
    date_to: date | None = None
    grain: str = DEFAULT_GRAIN
    cities: tuple[str, ...] = ()
    managers: tuple[int, ...] = ()
    channel: str = "all"
    funnel: str = "cohort"
    as_of: date | None = None
    #: How durations count time («Часы: календарные / рабочие»), passed through to the metrics.
    hours: str = "calendar"
    #: Comparison with an earlier period: ``none``, ``previous`` or ``year`` (a view choice, not a
    #: filter: the metrics run over both periods and ``compare.with_previous`` joins them).
    compare: str = "none"
    #: «Показать КЦ» on the office tab (?cc=1): contact-centre managers' rows are kept there.
    cc: bool = False

    @property
    def compare_mode(self) -> str | None:
        """The comparison for ``report.metrics.compare`` (None = off)."""
        return None if self.compare == "none" else self.compare

    def __post_init__(self) -> None:
        object.__setattr__(self, "cities", tuple(sorted(set(self.cities))))
        object.__setattr__(self, "managers", tuple(sorted({int(m) for m in self.managers})))

    def with_(self, **changes: object) -> ViewState:
        return replace(self, **changes)  # type: ignore[arg-type]

    def period_dates(self, today: date) -> tuple[date, date]:
        if self.period == "custom" and self.date_from and self.date_to:
            return self.date_from, self.date_to
        return preset_dates(self.period if self.period != "custom" else DEFAULT_PERIOD, today)

    def filters(self, today: date) -> Filters:
        """The metric layer's Filters; the office tab fixes the pipeline class to ``office``."""
        date_from, date_to = self.period_dates(today)
        channel = "office" if self.tab == "touches_office" else self.channel
        return Filters(
            date_from=date_from,
            date_to=date_to,
            grain=self.grain,
            cities=self.cities,
            managers=self.managers,
            channel=channel,
            as_of=self.as_of,
            hours=self.hours,
            # the office tab leaves out contact-centre managers unless «Показать КЦ» is on
            cc_managers=self.tab != "touches_office" or self.cc,
        )

    def to_store(self) -> dict[str, object]:
        """JSON-able form for a dcc.Store."""
        data = asdict(self)
        for key in ("date_from", "date_to", "as_of"):
            data[key] = data[key].isoformat() if data[key] else None
        data["cities"] = list(self.cities)
        data["managers"] = list(self.managers)
        return data

    @classmethod
    def from_store(cls, data: Mapping[str, object] | None) -> ViewState:
        if not data:
            return cls()
        values = dict(data)
        for key in ("date_from", "date_to", "as_of"):
            values[key] = date.fromisoformat(str(values[key])) if values.get(key) else None
        values["cities"] = tuple(values.get("cities") or ())  # type: ignore[arg-type]
        values["managers"] = tuple(values.get("managers") or ())  # type: ignore[arg-type]
        return cls(**{k: v for k, v in values.items() if k in cls.__dataclass_fields__})  # type: ignore[arg-type]


def preset_dates(preset: str, today: date) -> tuple[date, date]:
    """First and last day of a period preset; weeks start on Monday, quarters on Jan/Apr/Jul/Oct.

    ``today`` is the data's date (the snapshot's "data as of"), and a "this …" preset ends there,
    as people mean it: "this year" on 4 December is 1 January – 4 December, not – 31 December
    (a range into the future would show empty buckets and as-of figures at a date with no data).
    "Last …" presets are whole periods."""
    if preset == "today":
        return today, today
    if preset == "last_7_days":
        return today - timedelta(days=6), today
    if preset in ("this_week", "last_week"):
        monday = today - timedelta(days=today.weekday())
        if preset == "this_week":
            return monday, today
        monday -= timedelta(days=7)
        return monday, monday + timedelta(days=6)
    if preset in ("this_month", "last_month"):
        first = today.replace(day=1)
        if preset == "this_month":
            return first, today
        first = (first - timedelta(days=1)).replace(day=1)
        return first, _month_end(first)
    if preset in ("this_quarter", "last_quarter"):
        first = date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
        if preset == "this_quarter":
            return first, today
        first = date(first.year - 1, 10, 1) if first.month == 1 else date(first.year, first.month - 3, 1)
        return first, _month_end(first.replace(month=first.month + 2))
    if preset in ("this_year", "last_year"):
        if preset == "this_year":
            return date(today.year, 1, 1), today
        return date(today.year - 1, 1, 1), date(today.year - 1, 12, 31)
    raise ValueError(f"unknown period preset {preset!r}")


def _month_end(first: date) -> date:
    nxt = date(first.year + (first.month == 12), first.month % 12 + 1, 1)
    return nxt - timedelta(days=1)


def _values(query: Mapping[str, str | list[str]], key: str) -> list[str]:
    """All values of a key, whether it arrived as a string, a list or comma-separated."""
    raw = query.get(key)
    if raw is None:
        return []
    items = [raw] if isinstance(raw, str) else list(raw)
    out: list[str] = []
    for item in items:
        out.extend(part.strip() for part in str(item).split(",") if part.strip())
    return out


def _query_dict(query: str | Mapping[str, str | list[str]] | None) -> dict[str, list[str]]:
    if query is None:
        return {}
    if isinstance(query, str):
        pairs = parse_qsl(query.lstrip("?"), keep_blank_values=False)
        out: dict[str, list[str]] = {}
        for k, v in pairs:
            out.setdefault(k, []).append(v)
        return out
    return {k: ([v] if isinstance(v, str) else list(v)) for k, v in query.items()}


def _parse_date(text: str) -> date | None:
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def parse(
    pathname: str | None,
    query: str | Mapping[str, str | list[str]] | None,
    *,
    known_cities: Iterable[str] | None = None,
    known_managers: Iterable[int] | None = None,
    default_lang: str = "ru",
) -> tuple[ViewState, list[Notice]]:
    """The view a URL asks for, and what had to be dropped from it.

    ``known_cities``/``known_managers`` = None means "do not check" (e.g. before a snapshot exists).
    """
    notices: list[Notice] = []
    q = _query_dict(query)

    path = (pathname or "/").rstrip("/") or "/"
    if path == "/":
        tab = "funnels"
    elif path in PATH_TABS:
        tab = PATH_TABS[path]
    else:
        tab = "funnels"
        notices.append(Notice("path", pathname or ""))

    def one(key: str, allowed: tuple[str, ...], default: str) -> str:
        vals = _values(q, key)
        if not vals:
            return default
        if vals[-1] in allowed:
            return vals[-1]
        notices.append(Notice(key, vals[-1]))
        return default

    lang = one("lang", LANGS, default_lang if default_lang in LANGS else "ru")
    grain = one("grain", GRAINS, DEFAULT_GRAIN)
    channel = one("channel", CHANNEL_FILTERS, "all")
    funnel = one("funnel", FUNNEL_TYPES, "cohort")
    period = one("period", PRESETS, DEFAULT_PERIOD)
    hours = one("hours", HOURS, "calendar")
    compare = one("compare", COMPARES, "none")
    cc = one("cc", ("0", "1"), "0") == "1"

    date_from = date_to = None
    raw_from, raw_to = _values(q, "from"), _values(q, "to")
    if raw_from or raw_to or period == "custom":
        parsed_from = _parse_date(raw_from[-1]) if raw_from else None
        parsed_to = _parse_date(raw_to[-1]) if raw_to else None
        if raw_from and parsed_from is None:
            notices.append(Notice("from", raw_from[-1]))
        if raw_to and parsed_to is None:
            notices.append(Notice("to", raw_to[-1]))
        if parsed_from and parsed_to and parsed_from > parsed_to:
            notices.append(Notice("range", f"{parsed_from.isoformat()} > {parsed_to.isoformat()}"))
            parsed_from = parsed_to = None
        if parsed_from and parsed_to:
            period, date_from, date_to = "custom", parsed_from, parsed_to
        else:
            if (parsed_from or parsed_to) or (period == "custom" and not (raw_from or raw_to)):
                notices.append(Notice("period_incomplete", ""))
            period = DEFAULT_PERIOD if period == "custom" else period

    cities = _values(q, "city")
    if known_cities is not None:
        known = set(known_cities)
        for c in cities:
            if c not in known:
                notices.append(Notice("city", c))
        cities = [c for c in cities if c in known]

    managers: list[int] = []
    known_m = set(known_managers) if known_managers is not None else None
    for m in _values(q, "manager"):
        try:
            mid = int(m)
        except ValueError:
            notices.append(Notice("manager", m))
            continue
        if known_m is not None and mid not in known_m:
            notices.append(Notice("manager", m))
            continue
        managers.append(mid)

    as_of = None
    raw_as_of = _values(q, "asof")
    if raw_as_of:
        as_of = _parse_date(raw_as_of[-1])
        if as_of is None:
            notices.append(Notice("asof", raw_as_of[-1]))

    notices = cap_notices(notices, lang)
    state = ViewState(
        tab=tab,
        lang=lang,
        period=period,
        date_from=date_from,
        date_to=date_to,
        grain=grain,
        cities=tuple(cities),
        managers=tuple(managers),
        channel=channel,
        funnel=funnel,
        as_of=as_of,
        hours=hours,
        compare=compare,
        cc=cc,
    )
    return state, notices


def _short(value: str) -> str:
    return value if len(value) <= MAX_VALUE_CHARS else value[: MAX_VALUE_CHARS - 1] + "…"


def cap_notices(notices: list[Notice], lang: str) -> list[Notice]:
    """At most :data:`MAX_LISTED` unknown values per key, then one notice «A, B, C и ещё N».

    Up to the limit nothing changes (one notice per value); over it, the key's notices become one
    whose value lists the first few and counts the rest, in the page's language.  Long values are
    cut to :data:`MAX_VALUE_CHARS`.
    """
    by_key: dict[str, list[Notice]] = {}
    for notice in notices:
        by_key.setdefault(notice.key, []).append(notice)
    out: list[Notice] = []
    for key, group in by_key.items():
        if len(group) <= MAX_LISTED:
            out.extend(Notice(n.key, _short(n.value)) for n in group)
            continue
        listed = ", ".join(_short(n.value) for n in group[:MAX_LISTED])
        rest = f"{len(group) - MAX_LISTED:,}"
        more = f"and {rest} more" if lang == "en" else f"и ещё {rest.replace(',', chr(0xA0))}"
        out.append(Notice(key, f"{listed} {more}"))
    return out


def encode(state: ViewState, *, default_lang: str = "ru") -> tuple[str, str]:
    """``(pathname, search)`` of a view: the one canonical URL (``search`` is ``""`` or starts with ``?``)."""
    pairs: list[tuple[str, str]] = []
    if state.period == "custom" and state.date_from and state.date_to:
        pairs += [("from", state.date_from.isoformat()), ("to", state.date_to.isoformat())]
    elif state.period not in (DEFAULT_PERIOD, "custom"):
        pairs.append(("period", state.period))
    if state.grain != DEFAULT_GRAIN:
        pairs.append(("grain", state.grain))
    pairs += [("city", c) for c in state.cities]
    pairs += [("manager", str(m)) for m in state.managers]
    if state.channel != "all":
        pairs.append(("channel", state.channel))
    if state.funnel != "cohort":
        pairs.append(("funnel", state.funnel))
    if state.as_of:
        pairs.append(("asof", state.as_of.isoformat()))
    if state.hours != "calendar":
        pairs.append(("hours", state.hours))
    if state.compare != "none":
        pairs.append(("compare", state.compare))
    if state.cc:
        pairs.append(("cc", "1"))
    if state.lang != default_lang:
        pairs.append(("lang", state.lang))
    search = ("?" + urlencode(pairs, quote_via=quote)) if pairs else ""
    return TAB_PATHS.get(state.tab, TAB_PATHS["funnels"]), search


def href(state: ViewState, *, default_lang: str = "ru") -> str:
    path, search = encode(state, default_lang=default_lang)
    return path + search
