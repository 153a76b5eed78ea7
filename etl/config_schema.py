"""What ``config.yaml`` may contain: every key with its type, default and limits (pydantic).

The models mirror the file section by section, so that an unknown key or a wrong type is refused
with the key's path; :mod:`etl.config` adds the line numbers and turns the valid file into the
:class:`~etl.config.Config` the rest of the code uses.

Choices where the spec is silent:
- Validation is *strict*: ``page_size: "250"`` is refused rather than read as 250 (a quoted number
  is more often a mistake than a wish); an integer is accepted where a decimal is expected.
- A section or list left empty in YAML (``users:`` with nothing after it, i.e. null) means an empty
  section or list, as the file's own comments suggest; a null scalar is refused, except
  ``amocrm.subdomain`` and ``fields.package``, where empty has a meaning (demo mode, no package view)
  and a city's time zone, where null means the report time zone.
- A status listed under two stages is refused: which stage would win would depend on the order
  of the file.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from datetime import date, datetime
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, PlainValidator, create_model
from pydantic import model_validator as _model_validator

#: Funnel stages in order; their funnel position is their index + 1.
FUNNEL_STAGES: tuple[str, ...] = ("lead", "phone", "booked", "attended", "contract")
#: Side and closing stages.
SIDE_STAGES: tuple[str, ...] = ("won", "not_booked", "no_answer", "no_show", "lost")


def _empty_if_null(empty: Any) -> BeforeValidator:
    return BeforeValidator(lambda value: empty() if value is None else value)


def _time_zone(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"expected an IANA time zone name such as Europe/Moscow, got {value!r}")
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
        raise ValueError(f"unknown time zone {value!r} (expected an IANA name such as Europe/Moscow)") from exc
    return value


def _optional_time_zone(value: Any) -> str | None:
    return None if value is None else _time_zone(value)


def _name_or_id(value: Any) -> int | str:
    """A status, pipeline or user: a numeric id, or a non-blank name."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip():
        return value
    raise ValueError(f"expected a name or a numeric id, got {value!r}")


def _clock(value: Any) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        # Unquoted 09:00 is a base-60 number in YAML 1.1 (540): say so instead of "not a string".
        raise ValueError('write the time in quotes, e.g. "09:00" (unquoted, YAML reads it as a number)')
    if not isinstance(value, str) or not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", value):
        raise ValueError(f"expected a time HH:MM such as 09:00, got {value!r}")
    return value


def _env_var(value: str) -> str:
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", value):
        raise ValueError(f"expected an environment variable name such as AMOCRM_ACCESS_TOKEN, got {value!r}")
    return value


TimeZone = Annotated[str, PlainValidator(_time_zone)]
NameOrId = Annotated[int | str, PlainValidator(_name_or_id)]
NameList = Annotated[list[NameOrId], _empty_if_null(list)]
Text = Annotated[str, Field(min_length=1)]
OptionalText = Annotated[str, _empty_if_null(str)]
EnvVar = Annotated[str, AfterValidator(_env_var)]
Clock = Annotated[str, PlainValidator(_clock)]


class Section(BaseModel):
    """A mapping in config.yaml: known keys only, strict types; null means "all defaults"."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    @_model_validator(mode="before")
    @classmethod
    def _null_is_empty(cls, value: Any) -> Any:
        return {} if value is None else value


class EnvNames(Section):
    """Names of the environment variables holding credentials (never the values)."""

    base_url: EnvVar = "AMOCRM_BASE_URL"
    access_token: EnvVar = "AMOCRM_ACCESS_TOKEN"
    client_id: EnvVar = "AMOCRM_CLIENT_ID"
    client_secret: EnvVar = "AMOCRM_CLIENT_SECRET"
    redirect_uri: EnvVar = "AMOCRM_REDIRECT_URI"
    token_file: EnvVar = "AMOCRM_TOKEN_FILE"


class AmoCrmConfig(Section):
    """The ``amocrm:`` section: where the account lives and how politely it is read."""

    subdomain: Annotated[OptionalText, AfterValidator(str.strip)] = ""
    domain: Text = "amocrm.ru"
    rate_limit_per_s: Annotated[float, Field(gt=0, le=50)] = 7.0
    page_size: Annotated[int, Field(ge=1, le=250)] = 250
    overlap_seconds: Annotated[int, Field(ge=0)] = 300
    timeout_s: Annotated[float, Field(gt=0)] = 30.0
    max_retries: Annotated[int, Field(ge=0)] = 6
    env: EnvNames = EnvNames()

    def env_name(self, key: str) -> str:
        """The environment variable config.yaml names for ``key`` (base_url, access_token, ...)."""
        return str(getattr(self.env, key))

    def base_url(self, environ: Mapping[str, str] | None = None) -> str | None:
        """Where the account lives: the env override, else the subdomain; None = demo mode."""
        environ = os.environ if environ is None else environ
        override = environ.get(self.env_name("base_url"), "").strip()
        if override:
            return override.rstrip("/")
        if self.subdomain:
            return f"https://{self.subdomain}.{self.domain}"
        return None


def normalize_name(name: str) -> str:
    """Key for comparing amoCRM names: case, surrounding spaces and ё/е do not matter."""
    return " ".join(str(name).split()).casefold().replace("ё", "е")


def _one_stage_per_status(stages: BaseModel) -> BaseModel:
    owner: dict[int | str, str] = {}
    for stage, items in stages:
        for item in items:
            key = item if isinstance(item, int) else normalize_name(item)
            if key in owner and owner[key] != stage:
                raise ValueError(f"status {item!r} is mapped to two stages, {owner[key]} and {stage}")
            owner[key] = stage
    if not owner:
        raise ValueError(
            "no status is mapped to any stage: list the account's statuses under lead, phone, ... "
            "(every deal would be 'unmapped')"
        )
    return stages


#: ``stages:``: one list of statuses per canonical stage (``other`` is what is left unmapped).
Stages = create_model(  # type: ignore[call-overload]
    "Stages",
    __base__=Section,
    __validators__={"_check": _model_validator(mode="after")(_one_stage_per_status)},
    **{stage: (NameList, []) for stage in FUNNEL_STAGES + SIDE_STAGES},
)


class Pipelines(Section):
    contact_center: NameList = []


class Fields(Section):
    city: Text = "Город"
    package: OptionalText = ""


WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def _end_clock(value: Any) -> str:
    # 24:00 closes a schedule at midnight (a contact centre open round the clock: 00:00–24:00).
    return value if value == "24:00" else _clock(value)


def _iso_date(value: Any) -> date:
    """A date as YAML writes it (2026-12-31, read as a date) or quoted ("2026-12-31")."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise ValueError(f"expected a date YYYY-MM-DD such as 2026-12-31, got {value!r}")


def _holiday_calendar(value: Any) -> str | None:
    """A country code of the ``holidays`` package (RU), or null for weekends only."""
    if value is None:
        return None
    import holidays  # only when a config is read: the report never needs it at query time

    if not isinstance(value, str) or value not in holidays.list_supported_countries():
        raise ValueError(f"expected a country code of the holidays package such as RU (or null), got {value!r}")
    return value


EndClock = Annotated[str, PlainValidator(_end_clock)]
IsoDate = Annotated[date, PlainValidator(_iso_date)]


def _start_before_end(schedule: BaseModel) -> BaseModel:
    start, end = getattr(schedule, "start", None), getattr(schedule, "end", None)
    if start is not None and end is not None and end <= start:
        raise ValueError(f"end {end} is not after start {start} (a shift past midnight is not supported)")
    return schedule


class Schedule(Section):
    """Working days and hours of one office (or the contact centre), in its own local time."""

    days: Annotated[list[Weekday], Field(min_length=1)] = ["mon", "tue", "wed", "thu", "fri"]
    start: Clock = "09:00"
    end: EndClock = "21:00"
    #: False: public holidays and ``days_off`` do not close it (a contact centre open every day).
    observe_days_off: bool = True

    _check = _model_validator(mode="after")(_start_before_end)


class ScheduleOverride(Section):
    """A city's schedule: only the keys it gives differ from ``working_hours.default``."""

    days: Annotated[list[Weekday], Field(min_length=1)] | None = None
    start: Clock | None = None
    end: EndClock | None = None
    observe_days_off: bool | None = None

    def over(self, default: Schedule) -> Schedule:
        """This override applied to ``default``; ValueError when the merged hours end before they
        start (``etl.config`` checks each city's, with its line, and that the city is listed)."""
        given = {key: value for key, value in self if value is not None}
        merged = default.model_copy(update=given)
        _start_before_end(merged)
        return merged


#: The contact centre's default: every day 08:00–22:00 (report time zone), holidays included.
CONTACT_CENTER_SCHEDULE = Schedule(days=list(WEEKDAYS), start="08:00", end="22:00", observe_days_off=False)


class WorkingHours(Section):
    """``working_hours:``: the schedules business-time durations count (METRICS.md "--hours")."""

    default: Schedule = Schedule()
    cities: Annotated[dict[Text, ScheduleOverride], _empty_if_null(dict)] = {}
    contact_center: Schedule = CONTACT_CENTER_SCHEDULE
    calendar: Annotated[str | None, PlainValidator(_holiday_calendar)] = "RU"
    days_off: Annotated[list[IsoDate], _empty_if_null(list)] = []
    work_days: Annotated[list[IsoDate], _empty_if_null(list)] = []

    @_model_validator(mode="after")
    def _consistent(self) -> WorkingHours:
        both = sorted(set(self.days_off) & set(self.work_days))
        if both:
            raise ValueError(f"{', '.join(map(str, both))} listed both in days_off and in work_days")
        return self


def _open_stages_only(days: dict[str, float]) -> dict[str, float]:
    closed = set(days) & {"won", "lost"}
    unknown = set(days) - set(FUNNEL_STAGES + SIDE_STAGES)
    if unknown:
        raise ValueError(
            f"unknown stage {', '.join(sorted(unknown))}; stages: {', '.join(FUNNEL_STAGES + SIDE_STAGES)}"
        )
    if closed:
        raise ValueError(f"{', '.join(sorted(closed))}: a closed deal cannot be stuck")
    return days


#: Days in a stage after which an open deal counts as stuck (the defaults of config.yaml).
DEFAULT_STUCK_AFTER_DAYS: dict[str, float] = {
    "lead": 1,
    "phone": 3,
    "booked": 7,
    "attended": 7,
    "contract": 30,
    "not_booked": 14,
    "no_answer": 7,
    "no_show": 7,
}


class Snapshots(Section):
    dir: Text = "snapshots"
    keep: Annotated[int, Field(ge=1)] = 3
    stale_after_hours: Annotated[float, Field(gt=0)] = 26.0


class PublishGuard(Section):
    """``publish_guard:``: how much coverage a new snapshot may lose before it needs ``--force``."""

    #: Largest allowed fall of mapped deals, cities or mapped stages, as a share (0.2 = 20 %).
    max_drop: Annotated[float, Field(ge=0, le=1)] = 0.2


def _frame_origin(value: Any) -> str:
    # Only what a CSP source may be, so that a value cannot smuggle a directive (no spaces, no ;).
    if not isinstance(value, str) or not re.fullmatch(r"'self'|https?://(\*\.)?[A-Za-z0-9.-]+(:\d{1,5})?", value):
        raise ValueError(f"expected an origin such as https://portal.example (or 'self'), got {value!r}")
    return value


class Security(Section):
    """``security:``: what browsers are told about embedding the report."""

    #: Origins that may show the report in a frame; empty = nobody (``frame-ancestors 'none'``).
    frame_ancestors: Annotated[list[Annotated[str, PlainValidator(_frame_origin)]], _empty_if_null(list)] = []


def _base_url(value: Any) -> str:
    """``https://host[:port][/path]``: the address people open the report at (no query or fragment);
    stored without a trailing slash. Empty or null: links are made from the request."""
    if value is None or value == "":
        return ""
    if not isinstance(value, str) or not re.fullmatch(r"https?://[^\s/?#]+(/[^\s?#]*)?", value.strip()):
        raise ValueError(f"expected the report's address such as https://report.example.ru (or null), got {value!r}")
    return value.strip().rstrip("/")


class ReportSection(Section):
    """``report:``: how the web report presents itself."""

    base_url: Annotated[str, PlainValidator(_base_url)] = ""


class Cache(Section):
    dir: Text = "cache"
    size_limit_mb: Annotated[int, Field(ge=1)] = 512


def _some_city(cities: dict[str, str | None]) -> dict[str, str | None]:
    if not cities:
        raise ValueError("no city is listed: add each office's city with its time zone (Москва: Europe/Moscow)")
    return cities


class ConfigFile(Section):
    """The whole file.  ``stages`` and ``cities`` are validated even when absent (they must not be)."""

    timezone: TimeZone = "Europe/Moscow"
    locale: Literal["ru", "en"] = "ru"
    amocrm: AmoCrmConfig = AmoCrmConfig()
    stages: Stages = Field(default_factory=dict, validate_default=True)  # type: ignore[valid-type]
    pipelines: Pipelines = Pipelines()
    fields: Fields = Fields()
    working_hours: WorkingHours = WorkingHours()
    cities: Annotated[
        dict[Text, Annotated[str | None, PlainValidator(_optional_time_zone)]],
        _empty_if_null(dict),
        AfterValidator(_some_city),
    ] = Field(default_factory=dict, validate_default=True)
    users: Annotated[dict[NameOrId, Text], _empty_if_null(dict)] = {}
    attribution_grace_minutes: Annotated[int, Field(ge=0)] = 10
    stuck_after_days: Annotated[
        dict[str, Annotated[float, Field(gt=0)]], _empty_if_null(dict), AfterValidator(_open_stages_only)
    ] = Field(default_factory=lambda: dict(DEFAULT_STUCK_AFTER_DAYS))
    snapshots: Snapshots = Snapshots()
    publish_guard: PublishGuard = PublishGuard()
    security: Security = Security()
    cache: Cache = Cache()
    report: ReportSection = ReportSection()
