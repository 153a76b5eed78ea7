"""Typed configuration, loaded once from ``config.yaml``, validated, and passed around explicitly.

The canonical stages and their funnel positions live here too, because the ETL, the metrics and
the UI all need the same table (PRODUCT.md, "Canonical stages").  What the file may contain is
declared in :mod:`etl.config_schema`; this module reads the YAML, says *where* each problem is
(the key's path and its line), and builds the :class:`Config` the rest of the code uses.

A config that maps no status or lists no city is refused: it would publish a snapshot in which
every deal is unmapped and every city unknown, which looks like data but answers nothing.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pydantic
import yaml

from etl.config_hours import working_hours_settings
from etl.config_schema import (
    FUNNEL_STAGES,
    SIDE_STAGES,
    AmoCrmConfig,
    ConfigFile,
    WorkingHours,
    normalize_name,
)

__all__ = [
    "ALL_STAGES",
    "CHANNELS",
    "DEFAULT_CONFIG_PATH",
    "FUNNEL_STAGES",
    "LOST_STATUS_ID",
    "REPO_ROOT",
    "SIDE_STAGES",
    "STAGE_LABELS",
    "STAGE_POSITION",
    "WON_STATUS_ID",
    "AmoCrmConfig",
    "Config",
    "ConfigError",
    "NameOrIdMatcher",
    "data_dir",
    "load_config",
    "normalize_name",
    "working_hours_settings",
]

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG_PATH = REPO_ROOT / "config.yaml"

#: Every stage a status can map to; ``other`` is for statuses the config does not map.
ALL_STAGES: tuple[str, ...] = FUNNEL_STAGES + SIDE_STAGES + ("other",)
#: (Implied) funnel position of each stage; ``lost`` and ``other`` have none.
STAGE_POSITION: dict[str, int | None] = {
    "lead": 1,
    "phone": 2,
    "booked": 3,
    "attended": 4,
    "contract": 5,
    "won": 5,
    "not_booked": 2,
    "no_answer": 1,
    "no_show": 3,
    "lost": None,
    "other": None,
}
STAGE_LABELS: dict[str, dict[str, str]] = {
    "lead": {"ru": "Лид", "en": "Lead"},
    "phone": {"ru": "Номер получен", "en": "Phone collected"},
    "booked": {"ru": "Записан на консультацию", "en": "Booked"},
    "attended": {"ru": "Пришёл на первичку", "en": "Attended"},
    "contract": {"ru": "Заключён договор", "en": "Contract"},
    "won": {"ru": "Успешно реализовано", "en": "Won"},
    "not_booked": {"ru": "Не записался", "en": "Not booked"},
    "no_answer": {"ru": "Не отвечает", "en": "No answer"},
    "no_show": {"ru": "Не пришёл", "en": "No-show"},
    "lost": {"ru": "Закрыто и не реализовано", "en": "Lost"},
    "other": {"ru": "Не сопоставлен", "en": "Unmapped"},
}
CHANNELS: tuple[str, ...] = ("office", "contact_center")
WON_STATUS_ID = 142
LOST_STATUS_ID = 143


class ConfigError(ValueError):
    """The configuration file is missing or wrong; the message lists every problem with its line."""


@dataclass(frozen=True)
class NameOrIdMatcher:
    """Matches an amoCRM object by numeric id or by normalised name."""

    ids: frozenset[int] = frozenset()
    names: frozenset[str] = frozenset()

    @classmethod
    def of(cls, items: list[int | str]) -> NameOrIdMatcher:
        """From a validated list of ids and names (``etl.config_schema.NameList``)."""
        ids = frozenset(item for item in items if isinstance(item, int))
        return cls(ids, frozenset(normalize_name(item) for item in items if isinstance(item, str)))

    def matches(self, obj_id: int | None, name: str | None) -> bool:
        return (obj_id is not None and obj_id in self.ids) or (name is not None and normalize_name(name) in self.names)


@dataclass(frozen=True)
class Config:
    """What the code needs from config.yaml, in the shape it needs it (matchers, not lists)."""

    timezone: str
    locale: str
    amocrm: AmoCrmConfig
    stage_matchers: dict[str, NameOrIdMatcher]
    contact_center: NameOrIdMatcher
    city_field: str
    package_field: str
    working_hours: tuple[str, str]
    schedules: WorkingHours
    cities: dict[str, str]
    users: dict[str, str]
    attribution_grace_minutes: int
    stuck_after_days: dict[str, float]
    snapshots_dir: str
    snapshots_keep: int
    stale_after_hours: float
    publish_max_drop: float
    frame_ancestors: tuple[str, ...]
    cache_dir: str
    cache_size_limit_mb: int
    #: The report's own address for absolute links (XLSX «Ссылка»); "" = from the request.
    base_url: str
    sha256: str
    path: str

    def stage_of(self, status_id: int | None, status_name: str | None) -> str:
        """Stage of a status; ids win over names (142/143 are renamed in some accounts)."""
        for stage, matcher in self.stage_matchers.items():
            if status_id is not None and status_id in matcher.ids:
                return stage
        for stage, matcher in self.stage_matchers.items():
            if status_name is not None and normalize_name(status_name) in matcher.names:
                return stage
        return "other"

    def metric_settings(self) -> dict[str, Any]:
        """The settings metrics need, recorded in each snapshot's manifest (``settings``): a metric is
        a pure function of (snapshot, filters), so what config says about stuck deals or working
        hours reaches it through the snapshot it reads, never by loading config.yaml."""
        return {
            "stuck_after_days": dict(self.stuck_after_days),
            "working_hours": working_hours_settings(self.schedules),
        }

    def channel_of(self, pipeline_id: int | None, pipeline_name: str | None) -> str:
        return "contact_center" if self.contact_center.matches(pipeline_id, pipeline_name) else "office"

    def city_key(self) -> dict[str, str]:
        """Normalised city name → the city's name as written in the config."""
        return {normalize_name(c): c for c in self.cities}

    def city_tz(self, city: str | None) -> str:
        return self.cities.get(city or "", self.timezone)

    def user_city(self, user_id: int, user_name: str | None) -> str | None:
        """Home city configured for a user (by id or name), else None."""
        if str(user_id) in self.users:
            return self.users[str(user_id)]
        if user_name is not None:
            wanted = normalize_name(user_name)
            for key, city in self.users.items():
                if normalize_name(key) == wanted:
                    return city
        return None


def load_config(path: str | os.PathLike[str] | None = None) -> Config:
    """Read and validate ``config.yaml``; raise :class:`ConfigError` listing every problem and its line."""
    path = Path(path) if path else DEFAULT_CONFIG_PATH
    try:
        raw_bytes = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from exc
    node, data = _parse_yaml(raw_bytes, path)
    if data is None:
        empty = "the file is empty: it must map the account's statuses to stages and list the cities"
        raise _problems(path, [(1, "", empty)])
    if not isinstance(data, dict):
        raise _problems(path, [(_walk(node, ())[0], "", "expected a mapping of settings at the top level")])
    problems = _duplicate_keys(node)
    try:
        parsed = ConfigFile.model_validate(data)
    except pydantic.ValidationError as exc:
        problems += [_describe(node, error) for error in exc.errors()]
    else:
        problems += _city_schedule_problems(node, parsed)
    if problems:
        raise _problems(path, problems)
    return _build(parsed, raw_bytes, path)


def _build(parsed: ConfigFile, raw_bytes: bytes, path: Path) -> Config:
    # Only stages that list something get a matcher; a status is in at most one stage (the schema
    # refuses two), so stage_of does not depend on the order of the file.
    return Config(
        timezone=parsed.timezone,
        locale=parsed.locale,
        amocrm=parsed.amocrm,
        stage_matchers={stage: NameOrIdMatcher.of(items) for stage, items in parsed.stages if items},
        contact_center=NameOrIdMatcher.of(parsed.pipelines.contact_center),
        city_field=parsed.fields.city,
        package_field=parsed.fields.package,
        working_hours=(parsed.working_hours.default.start, parsed.working_hours.default.end),
        schedules=parsed.working_hours,
        cities={city: zone or parsed.timezone for city, zone in parsed.cities.items()},
        users={str(user): city for user, city in parsed.users.items()},
        attribution_grace_minutes=parsed.attribution_grace_minutes,
        stuck_after_days=dict(parsed.stuck_after_days),
        snapshots_dir=parsed.snapshots.dir,
        snapshots_keep=parsed.snapshots.keep,
        stale_after_hours=parsed.snapshots.stale_after_hours,
        publish_max_drop=parsed.publish_guard.max_drop,
        frame_ancestors=tuple(parsed.security.frame_ancestors),
        cache_dir=parsed.cache.dir,
        cache_size_limit_mb=parsed.cache.size_limit_mb,
        base_url=parsed.report.base_url,
        sha256=hashlib.sha256(raw_bytes).hexdigest(),
        path=str(path),
    )


def _city_schedule_problems(node: yaml.Node | None, parsed: ConfigFile) -> list[Problem]:
    """A city's working hours must name a city of ``cities:`` and, merged with the default,
    still end after they start; both are said at the city's line."""
    problems: list[Problem] = []
    listed = {normalize_name(city) for city in parsed.cities}
    for city, override in parsed.working_hours.cities.items():
        line, dotted = _walk(node, ("working_hours", "cities", city))
        if normalize_name(city) not in listed:
            problems.append((line, dotted, "not a city of cities: (add it there with its time zone)"))
            continue
        try:
            override.over(parsed.working_hours.default)
        except ValueError as exc:
            problems.append((line, dotted, f"with working_hours.default: {exc}"))
    return problems


# ---------------------------------------------------------------------------------------------
# Where a problem is: PyYAML's composed nodes map a key path to its line
# ---------------------------------------------------------------------------------------------

Problem = tuple[int, str, str]  # (line, dotted key path, what is wrong)


def _parse_yaml(raw_bytes: bytes, path: Path) -> tuple[yaml.Node | None, Any]:
    """The composed node tree (for lines) and the plain data, from one parse."""
    loader = yaml.SafeLoader(raw_bytes)
    try:
        node = loader.get_single_node()
        return node, (loader.construct_document(node) if node is not None else None)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        context, start = getattr(exc, "context", None), getattr(exc, "context_mark", None)
        if context and start is not None and start.line + 1 != line:
            context = f"{context} (from line {start.line + 1})"
        what = ", ".join(str(part) for part in (context, getattr(exc, "problem", None)) if part) or str(exc)
        raise _problems(path, [(line, "", f"not valid YAML: {what}")]) from exc
    finally:
        loader.dispose()


def _walk(node: yaml.Node | None, loc: tuple[Any, ...]) -> tuple[int, str]:
    """The line of ``loc``'s last key found in the file, and ``loc`` as a dotted path.

    A key the file lacks (a default, or a required section) gets the line of its closest parent.
    """
    line = node.start_mark.line + 1 if node is not None else 1
    parts: list[str] = []
    for step in loc:
        if step == "[key]":  # pydantic's marker for "the key itself is wrong", not a key
            break
        if isinstance(node, yaml.SequenceNode) and isinstance(step, int) and 0 <= step < len(node.value):
            parts.append(f"[{step}]")
            node = node.value[step]
            line = node.start_mark.line + 1
            continue
        parts.append(("." if parts else "") + str(step))
        found = None
        if isinstance(node, yaml.MappingNode):
            found = next(((k, v) for k, v in node.value if str(k.value) == str(step)), None)
        if found is None:
            node = None
            continue
        line, node = found[0].start_mark.line + 1, found[1]
    return line, "".join(parts)


def _describe(node: yaml.Node | None, error: Any) -> Problem:
    """A pydantic error as a user reads it: the line, the key, what is wrong (and what was found)."""
    loc = tuple(error["loc"])
    line, dotted = _walk(node, loc)
    if error["type"] == "extra_forbidden":
        known = _known_keys(loc[:-1])
        return line, dotted, "unknown key" + (f" (known here: {', '.join(known)})" if known else "")
    message = str(error["msg"]).removeprefix("Value error, ")
    found = error.get("input")
    if error["type"] != "value_error" and found is not None and not isinstance(found, dict | list):
        message += f", got {found!r}"
    return line, dotted, message


def _known_keys(loc: tuple[Any, ...]) -> list[str]:
    """The keys the schema allows in the mapping at ``loc`` ([] when it is not a section)."""
    model: Any = ConfigFile
    for step in loc:
        field = getattr(model, "model_fields", {}).get(step)
        model = field.annotation if field is not None else None
    return list(getattr(model, "model_fields", {}))


def _duplicate_keys(node: yaml.Node | None, prefix: str = "") -> list[Problem]:
    """Keys written twice in one mapping: YAML would silently keep only the last."""
    problems: list[Problem] = []
    if isinstance(node, yaml.MappingNode):
        first: dict[str, int] = {}
        for key, value in node.value:
            name, line = str(key.value), key.start_mark.line + 1
            dotted = f"{prefix}.{name}" if prefix else name
            if name in first:
                problems.append((line, dotted, f"written twice (first on line {first[name]}); keep one"))
            first.setdefault(name, line)
            problems += _duplicate_keys(value, dotted)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            problems += _duplicate_keys(item, f"{prefix}[{index}]")
    return problems


def _problems(path: Path, problems: list[Problem]) -> ConfigError:
    """One error listing every problem in file order, each with its line and key path."""
    lines = [f"  line {line}: {dotted + ': ' if dotted else ''}{what}" for line, dotted, what in sorted(problems)]
    count = f"{len(problems)} problems" if len(problems) > 1 else "1 problem"
    return ConfigError(f"invalid config {path} ({count}):\n" + "\n".join(lines))


def data_dir(cli_value: str | None = None) -> Path:
    """The data folder: --data-dir, else $REPORT_DATA_DIR, else ./data under the repository."""
    value = cli_value or os.environ.get("REPORT_DATA_DIR") or str(REPO_ROOT / "data")
    return Path(value).resolve()
