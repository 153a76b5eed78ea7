"""The one ``Filters`` value every metric takes: it is also the cache key and (via
``report.urlstate``) the URL of a view."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date

GRAINS: tuple[str, ...] = ("day", "week", "month", "quarter", "year")
CHANNEL_FILTERS: tuple[str, ...] = ("all", "office", "contact_center")
BREAKDOWNS: tuple[str, ...] = ("city", "manager", "channel", "bucket")
#: How durations are counted: every second, or only the working hours of the office (its own
#: time zone, schedule and days off; the contact centre has its own schedule).
HOURS: tuple[str, ...] = ("calendar", "business")


@dataclass(frozen=True)
class Filters:
    """What a user chose. Frozen and hashable.

    ``date_from``/``date_to`` are calendar dates in the report time zone, both inclusive.
    ``cities`` and ``managers`` (user ids) empty = all. ``channel`` is the pipeline class.
    ``as_of`` is the date for point-in-time metrics (default: ``date_to``). ``hours`` says how
    duration metrics count time (``calendar`` or ``business``); other metrics ignore it.
    ``cc_managers`` False leaves out the rows of contact-centre managers (see ``apply_filters``).
    """

    date_from: date
    date_to: date
    grain: str = "month"
    cities: tuple[str, ...] = field(default=())
    managers: tuple[int, ...] = field(default=())
    channel: str = "all"
    as_of: date | None = None
    hours: str = "calendar"
    #: False: rows whose manager is a contact-centre manager (most of whose deals are in
    #: contact-centre pipelines) are left out, in every metric (the office tab's default).
    cc_managers: bool = True

    def __post_init__(self) -> None:
        if self.date_from > self.date_to:
            raise ValueError(f"period starts after it ends: {self.date_from} > {self.date_to}")
        if self.grain not in GRAINS:
            raise ValueError(f"unknown grain {self.grain!r}; expected one of {', '.join(GRAINS)}")
        if self.channel not in CHANNEL_FILTERS:
            raise ValueError(f"unknown channel {self.channel!r}; expected one of {', '.join(CHANNEL_FILTERS)}")
        if self.hours not in HOURS:
            raise ValueError(f"unknown hours {self.hours!r}; expected one of {', '.join(HOURS)}")
        # Canonical order, so that equal choices give equal keys.
        object.__setattr__(self, "cities", tuple(sorted(set(self.cities))))
        object.__setattr__(self, "managers", tuple(sorted(set(int(m) for m in self.managers))))

    @property
    def effective_as_of(self) -> date:
        return self.as_of or self.date_to

    def with_(self, **changes: object) -> Filters:
        return replace(self, **changes)  # type: ignore[arg-type]

    def key(self) -> str:
        """Stable text form, used in cache keys."""
        return (
            f"{self.date_from.isoformat()}|{self.date_to.isoformat()}|{self.grain}|"
            f"{','.join(self.cities)}|{','.join(map(str, self.managers))}|{self.channel}|"
            f"{self.as_of.isoformat() if self.as_of else ''}|{self.hours}|{'cc' if self.cc_managers else 'nocc'}"
        )
