"""Working hours as a snapshot records them (``settings.working_hours`` of the manifest).

Apart from :mod:`etl.config` (which re-exports :func:`working_hours_settings`) to keep that module
to reading and validating the file.
"""

from __future__ import annotations

from typing import Any

from etl.config_schema import WEEKDAYS, Schedule, WorkingHours

__all__ = ["HOLIDAY_YEARS", "working_hours_settings"]


#: Years whose public holidays the build resolves into the manifest.  A fixed span, so that the
#: same config always gives the same settings (a build does not depend on today's date); a
#: duration outside it counts weekends and ``days_off`` only.  ``holidays`` knows the fixed
#: holidays of any year, but the government's transfers only for years it has been told of.
HOLIDAY_YEARS: tuple[int, int] = (2015, 2035)


def _schedule_settings(schedule: Schedule) -> dict[str, Any]:
    # days in Monday-first order, each once: the settings do not depend on how the file lists them
    days = [day for day in WEEKDAYS if day in schedule.days]
    return {"days": days, "start": schedule.start, "end": schedule.end, "observe_days_off": schedule.observe_days_off}


def working_hours_settings(hours: WorkingHours) -> dict[str, Any]:
    """``working_hours`` as the metrics read it from a snapshot's manifest: every schedule spelled
    out (a city's merged with the default) and the calendar resolved into dates, so the report
    needs neither config.yaml nor the ``holidays`` package at query time.

    ``days_off`` = the calendar's public holidays and the days off it moves (``holidays`` lists
    substituted days such as 2026-01-09) plus the file's ``days_off``; ``work_days`` = the
    weekend days the calendar makes working (``holidays``' ``weekend_workdays``, e.g. Saturday
    2025-11-01) plus the file's ``work_days``.  A date the file lists wins over the calendar.
    ``start``/``end`` repeat the default schedule's, for readers of the older two-key shape.
    """
    days_off, work_days = set(hours.days_off), set(hours.work_days)
    if hours.calendar is not None:
        import holidays  # read only here, at build time

        first, last = HOLIDAY_YEARS
        public = holidays.country_holidays(hours.calendar, years=range(first, last + 1))
        days_off |= set(public) - set(hours.work_days)
        work_days |= set(public.weekend_workdays) - set(hours.days_off)
    return {
        "start": hours.default.start,
        "end": hours.default.end,
        "default": _schedule_settings(hours.default),
        "cities": {city: _schedule_settings(over.over(hours.default)) for city, over in hours.cities.items()},
        "contact_center": _schedule_settings(hours.contact_center),
        "calendar": hours.calendar,
        "calendar_years": list(HOLIDAY_YEARS) if hours.calendar is not None else None,
        "days_off": sorted(day.isoformat() for day in days_off),
        "work_days": sorted(day.isoformat() for day in work_days),
    }
