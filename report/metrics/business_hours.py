"""Business time: seconds of working time between two UTC instants, for a schedule in a time zone.

Per schedule, the working intervals of each local day over the needed dates are laid out in UTC
with a running total of working seconds before each; the working time up to an instant is then
one binary search, and a duration is the difference of two such lookups (vectorised with numpy).

Note on the issue's example: with 09:00–21:00 on weekdays, Friday 20:00 → Monday 10:00 local time
is 20:00–21:00 Friday + 09:00–10:00 Monday = 2 business hours; 1 hour is Friday 20:00 → Monday
09:00.  Choices: a working day listed in ``work_days`` uses the schedule's start and end; a
duration whose end is before its start has no business time (null), so it is excluded exactly as
a negative calendar duration is.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import polars as pl

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
US = 1_000_000


@dataclass(frozen=True)
class Schedule:
    """Working days (0 = Monday) and hours (minutes after local midnight) in a time zone."""

    days: frozenset[int]
    start_min: int
    end_min: int
    tz: str
    observe_days_off: bool = True

    @classmethod
    def from_settings(cls, spec: Mapping[str, object], tz: str) -> Schedule:
        """From a manifest's ``settings.working_hours`` schedule (etl.config.working_hours_settings)."""

        def minutes(clock: object) -> int:
            hours, mins = str(clock).split(":")
            return int(hours) * 60 + int(mins)

        days = frozenset(WEEKDAYS.index(str(day)) for day in spec["days"])  # type: ignore[attr-defined]
        return cls(days, minutes(spec["start"]), minutes(spec["end"]), tz, bool(spec.get("observe_days_off", True)))


@dataclass(frozen=True)
class Calendar:
    days_off: frozenset[date] = frozenset()
    work_days: frozenset[date] = frozenset()


def working_intervals(schedule: Schedule, calendar: Calendar, first: date, last: date) -> tuple[np.ndarray, np.ndarray]:
    """UTC microsecond [start, end) of each working local day from ``first`` to ``last``."""
    days = pl.date_range(first, last, "1d", eager=True)
    weekday = days.dt.weekday() - 1  # polars: Monday = 1
    works = weekday.is_in(list(schedule.days))
    if schedule.observe_days_off:
        works = works & ~days.is_in(list(calendar.days_off))
    works = works | days.is_in(list(calendar.work_days))
    days = days.filter(works)

    def utc(minutes: int) -> np.ndarray:
        local = days.cast(pl.Datetime("us")) + pl.duration(minutes=minutes)
        local = pl.select(local).to_series()
        return (
            local.dt.replace_time_zone(schedule.tz, ambiguous="earliest", non_existent="null")
            .dt.timestamp("us")
            .to_numpy()
        )

    return utc(schedule.start_min), utc(schedule.end_min)


def business_seconds(
    frame: pl.DataFrame,
    schedules: Mapping[str, Schedule],
    calendar: Calendar,
    start: str = "start",
    end: str = "end",
    key: str = "schedule",
) -> pl.Series:
    """Working seconds between ``start`` and ``end`` (UTC datetimes) of each row, by the schedule
    its ``key`` names; null where either is null, the key is unknown, or end < start."""
    starts = frame[start].dt.timestamp("us").to_numpy()
    ends = frame[end].dt.timestamp("us").to_numpy()
    out = np.full(frame.height, np.nan)
    keys = frame[key].to_numpy()
    valid = frame[start].is_not_null().to_numpy() & frame[end].is_not_null().to_numpy()
    for name, schedule in schedules.items():
        rows = valid & (keys == name)
        if not rows.any():
            continue
        low, high = int(starts[rows].min()), int(ends[rows].max())
        first = date(1970, 1, 1) + timedelta(microseconds=low) - timedelta(days=2)
        last = date(1970, 1, 1) + timedelta(microseconds=high) + timedelta(days=2)
        begin, finish = working_intervals(schedule, calendar, first, last)
        lengths = finish - begin
        before = np.concatenate([[0], np.cumsum(lengths)[:-1]])

        def worked(instants: np.ndarray, begin=begin, lengths=lengths, before=before) -> np.ndarray:
            idx = np.searchsorted(begin, instants, side="right") - 1
            safe = np.clip(idx, 0, None)
            done = before[safe] + np.clip(instants - begin[safe], 0, lengths[safe])
            return np.where(idx < 0, 0, done)

        out[rows] = (worked(ends[rows]) - worked(starts[rows])) / US
    out[valid & (ends < starts)] = np.nan
    return pl.Series("d", out).fill_nan(None)


#: Schedule keys besides the cities: contact-centre deals, and deals without a city.
CONTACT_CENTER = "<contact_center>"
DEFAULT = "<default>"


@dataclass(frozen=True)
class Clock:
    """How a snapshot counts business time: a schedule per key (:func:`schedule_key`) and the
    calendar of days off and extra working days."""

    schedules: Mapping[str, Schedule]
    calendar: Calendar

    @classmethod
    def from_settings(cls, hours: Mapping[str, object], city_tz: Mapping[str, str], report_tz: str) -> Clock:
        """From a manifest's ``settings.working_hours`` (etl.config.working_hours_settings) and
        the snapshot's cities (city → time zone): each city's own schedule (its override, else
        the default) in its time zone; the default schedule in the report time zone for deals
        without a city; the contact centre's schedule in the report time zone (config.yaml)."""
        default = hours["default"]
        overrides: Mapping[str, Mapping[str, object]] = hours.get("cities") or {}  # type: ignore[assignment]
        schedules = {
            DEFAULT: Schedule.from_settings(default, report_tz),  # type: ignore[arg-type]
            CONTACT_CENTER: Schedule.from_settings(hours["contact_center"], report_tz),  # type: ignore[arg-type]
        }
        for city, tz in city_tz.items():
            schedules[city] = Schedule.from_settings(overrides.get(city, default), tz)  # type: ignore[arg-type]

        def dates(key: str) -> frozenset[date]:
            return frozenset(date.fromisoformat(str(d)) for d in hours.get(key) or ())  # type: ignore[attr-defined]

        return cls(schedules, Calendar(days_off=dates("days_off"), work_days=dates("work_days")))


def schedule_key() -> pl.Expr:
    """Whose working hours a deal's durations count: the contact centre's for a deal of a
    contact-centre pipeline, else its city's (the default schedule when it has no city)."""
    return (
        pl.when(pl.col("channel") == "contact_center")
        .then(pl.lit(CONTACT_CENTER))
        .otherwise(pl.coalesce(pl.col("city"), pl.lit(DEFAULT)))
    )


def business_duration(end: pl.Expr, start: pl.Expr, clock: Clock) -> pl.Expr:
    """Working seconds from ``start`` to ``end`` of each row by its :func:`schedule_key` (the
    rows need ``city`` and ``channel``); null where :func:`business_seconds` says so."""
    row = pl.struct(start.alias("start"), end.alias("end"), schedule_key().alias("schedule"))
    return row.map_batches(
        lambda s: business_seconds(s.struct.unnest(), clock.schedules, clock.calendar), return_dtype=pl.Float64
    )
