"""Typed configuration, loaded once from ``config.yaml`` and passed around explicitly.

The canonical stages and their funnel positions live here too, because the ETL, the metrics and
the UI all need the same table (PRODUCT.md, "Canonical stages").
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG_PATH = REPO_ROOT / "config.yaml"

#: Funnel stages in order; their funnel position is their index + 1.
FUNNEL_STAGES: tuple[str, ...] = ("lead", "phone", "booked", "attended", "contract")
#: Side and closing stages.
SIDE_STAGES: tuple[str, ...] = ("won", "not_booked", "no_answer", "no_show", "lost")
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
    """The configuration file is missing or wrong; the message says where."""


def normalize_name(name: str) -> str:
    """Key for comparing amoCRM names: case, surrounding spaces and ё/е do not matter."""
    return " ".join(str(name).split()).casefold().replace("ё", "е")


@dataclass(frozen=True)
class NameOrIdMatcher:
    """Matches an amoCRM object by numeric id or by normalised name."""

    ids: frozenset[int] = frozenset()
    names: frozenset[str] = frozenset()

    @classmethod
    def from_list(cls, items: list[Any] | None, where: str) -> NameOrIdMatcher:
        ids: set[int] = set()
        names: set[str] = set()
        for item in items or []:
            if isinstance(item, bool):
                raise ConfigError(f"{where}: expected a name or an id, got {item!r}")
            if isinstance(item, int):
                ids.add(item)
            elif isinstance(item, str) and item.strip():
                names.add(normalize_name(item))
            else:
                raise ConfigError(f"{where}: expected a name or an id, got {item!r}")
        return cls(frozenset(ids), frozenset(names))

    def matches(self, obj_id: int | None, name: str | None) -> bool:
        return (obj_id is not None and obj_id in self.ids) or (name is not None and normalize_name(name) in self.names)


@dataclass(frozen=True)
class AmoCrmConfig:
    subdomain: str = ""
    domain: str = "amocrm.ru"
    rate_limit_per_s: float = 7.0
    page_size: int = 250
    overlap_seconds: int = 300
    timeout_s: float = 30.0
    max_retries: int = 6
    env: dict[str, str] = field(default_factory=dict)

    def env_name(self, key: str) -> str:
        defaults = {
            "base_url": "AMOCRM_BASE_URL",
            "access_token": "AMOCRM_ACCESS_TOKEN",
            "client_id": "AMOCRM_CLIENT_ID",
            "client_secret": "AMOCRM_CLIENT_SECRET",
            "redirect_uri": "AMOCRM_REDIRECT_URI",
            "token_file": "AMOCRM_TOKEN_FILE",
        }
        return self.env.get(key, defaults[key])

    def base_url(self, environ: dict[str, str] | None = None) -> str | None:
        """Where the account lives: the env override, else the subdomain; None = demo mode."""
        environ = os.environ if environ is None else environ
        override = environ.get(self.env_name("base_url"), "").strip()
        if override:
            return override.rstrip("/")
        if self.subdomain:
            return f"https://{self.subdomain}.{self.domain}"
        return None


@dataclass(frozen=True)
class Config:
    timezone: str
    locale: str
    amocrm: AmoCrmConfig
    stage_matchers: dict[str, NameOrIdMatcher]
    contact_center: NameOrIdMatcher
    city_field: str
    package_field: str
    working_hours: tuple[str, str]
    cities: dict[str, str]
    users: dict[str, str]
    attribution_grace_minutes: int
    snapshots_dir: str
    snapshots_keep: int
    stale_after_hours: float
    cache_dir: str
    cache_size_limit_mb: int
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


def _check_tz(name: str, where: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(f"{where}: unknown time zone {name!r}") from exc
    return name


def load_config(path: str | os.PathLike[str] | None = None) -> Config:
    """Read and validate ``config.yaml``; raise :class:`ConfigError` naming the bad key."""
    path = Path(path) if path else DEFAULT_CONFIG_PATH
    try:
        raw_bytes = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from exc
    try:
        data = yaml.safe_load(raw_bytes) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level")

    tz = _check_tz(str(data.get("timezone", "Europe/Moscow")), f"{path}: timezone")
    locale = str(data.get("locale", "ru"))
    if locale not in ("ru", "en"):
        raise ConfigError(f"{path}: locale must be ru or en, got {locale!r}")

    amo = data.get("amocrm") or {}
    amocrm = AmoCrmConfig(
        subdomain=str(amo.get("subdomain") or "").strip(),
        domain=str(amo.get("domain") or "amocrm.ru"),
        rate_limit_per_s=float(amo.get("rate_limit_per_s", 7)),
        page_size=int(amo.get("page_size", 250)),
        overlap_seconds=int(amo.get("overlap_seconds", 300)),
        timeout_s=float(amo.get("timeout_s", 30)),
        max_retries=int(amo.get("max_retries", 6)),
        env={str(k): str(v) for k, v in (amo.get("env") or {}).items()},
    )
    if not 0 < amocrm.rate_limit_per_s <= 50:
        raise ConfigError(f"{path}: amocrm.rate_limit_per_s must be in (0, 50]")
    if not 1 <= amocrm.page_size <= 250:
        raise ConfigError(f"{path}: amocrm.page_size must be in 1..250")

    stages_raw = data.get("stages") or {}
    if not isinstance(stages_raw, dict):
        raise ConfigError(f"{path}: stages must be a mapping of stage → statuses")
    matchers: dict[str, NameOrIdMatcher] = {}
    for stage, items in stages_raw.items():
        if stage not in ALL_STAGES or stage == "other":
            raise ConfigError(f"{path}: stages.{stage}: unknown stage; known: {', '.join(ALL_STAGES[:-1])}")
        matchers[stage] = NameOrIdMatcher.from_list(items, f"{path}: stages.{stage}")

    pipes = data.get("pipelines") or {}
    contact_center = NameOrIdMatcher.from_list(pipes.get("contact_center"), f"{path}: pipelines.contact_center")

    fields_raw = data.get("fields") or {}
    wh = data.get("working_hours") or {}
    cities_raw = data.get("cities") or {}
    if not isinstance(cities_raw, dict):
        raise ConfigError(f"{path}: cities must be a mapping city → time zone")
    cities = {str(c): _check_tz(str(z or tz), f"{path}: cities.{c}") for c, z in cities_raw.items()}
    users = {str(k): str(v) for k, v in (data.get("users") or {}).items()}
    snaps = data.get("snapshots") or {}
    cache = data.get("cache") or {}
    keep = int(snaps.get("keep", 3))
    if keep < 1:
        raise ConfigError(f"{path}: snapshots.keep must be at least 1")

    return Config(
        timezone=tz,
        locale=locale,
        amocrm=amocrm,
        stage_matchers=matchers,
        contact_center=contact_center,
        city_field=str(fields_raw.get("city") or "Город"),
        package_field=str(fields_raw.get("package") or ""),
        working_hours=(str(wh.get("start", "09:00")), str(wh.get("end", "21:00"))),
        cities=cities,
        users=users,
        attribution_grace_minutes=int(data.get("attribution_grace_minutes", 10)),
        snapshots_dir=str(snaps.get("dir", "snapshots")),
        snapshots_keep=keep,
        stale_after_hours=float(snaps.get("stale_after_hours", 26)),
        cache_dir=str(cache.get("dir", "cache")),
        cache_size_limit_mb=int(cache.get("size_limit_mb", 512)),
        sha256=hashlib.sha256(raw_bytes).hexdigest(),
        path=str(path),
    )


def data_dir(cli_value: str | None = None) -> Path:
    """The data folder: --data-dir, else $REPORT_DATA_DIR, else ./data under the repository."""
    value = cli_value or os.environ.get("REPORT_DATA_DIR") or str(REPO_ROOT / "data")
    return Path(value).resolve()
