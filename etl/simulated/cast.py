"""The cast of the demo account: its cities, users (the team), pipelines and custom fields.

Drawn from ``rngs[0]`` before any deal exists: the team's speeds and conversion factors, then the
cities' conversion factors (in that order, so the same seed gives the same team).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from etl.simulated.params import S_LOST, S_NO_SHOW, S_UNSORTED, S_WON, SynthParams
from etl.simulated.vocabulary import CITY_POPULATION, LAST_NAMES, PIPELINE_NAMES, STAFF_FIRST, STATUS_NAMES

CITY_FIELD_ID = 900_001
PACKAGE_FIELD_ID = 900_002


@dataclass(frozen=True)
class Team:
    """The account's users: API records plus per-user arrays (index 0 = the admin)."""

    records: list[dict[str, Any]]
    ids: np.ndarray
    group: np.ndarray
    speed: np.ndarray  # first-call delay factor
    conv: np.ndarray  # conversion factor
    mgr_start: np.ndarray  # city → index of its first office manager
    mgr_count: np.ndarray  # city → number of its office managers
    slow: int  # the slow manager's index


@dataclass(frozen=True)
class Cast:
    city_names: list[str]  # biggest first
    city_weights: np.ndarray  # share of the lead flow
    city_offsets: np.ndarray  # UTC offset in seconds on the end date
    city_conv: np.ndarray
    team: Team
    pipelines: list[dict[str, Any]]
    status_ids: np.ndarray  # [pipeline, slot] → status id
    pipeline_ids: np.ndarray
    lead_fields: list[dict[str, Any]]
    city_enum_ids: list[int]
    package_enum_ids: list[int]


def load_cities(params: SynthParams) -> dict[str, str]:
    """The config's cities → time zone (names must match what ``etl build`` maps)."""
    from etl.config import load_config

    return dict(load_config(params.config_path).cities)


def make_cast(params: SynthParams, end: datetime, rng: np.random.Generator) -> Cast:
    cities = load_cities(params)
    city_names = list(cities)
    population = np.array([CITY_POPULATION.get(name, 0.5) for name in city_names])
    rank = np.argsort(-population, kind="stable")
    city_names = [city_names[i] for i in rank]  # biggest first (users are laid out by size)
    population = population[rank]
    weights = population**params.city_weight_power
    weights = weights / weights.sum()
    offsets = np.array(
        [int(ZoneInfo(cities[name]).utcoffset(end.replace(tzinfo=None)).total_seconds()) for name in city_names],
        dtype=np.int64,
    )
    team = make_team(params, city_names, rng)
    pipelines, status_ids, pipeline_ids = make_pipelines(params)
    lead_fields, city_enum_ids, package_enum_ids = make_fields(params, city_names)
    city_conv = np.clip(rng.normal(1.0, params.city_conv_sd, len(city_names)), 0.85, 1.15)
    return Cast(
        city_names, weights, offsets, city_conv, team, pipelines, status_ids, pipeline_ids,
        lead_fields, city_enum_ids, package_enum_ids,
    )  # fmt: skip


def _managers_per_city(params: SynthParams, n_cities: int) -> list[int]:
    per_city = []
    for rank in range(n_cities):
        if rank < len(params.office_managers_top):
            per_city.append(params.office_managers_top[rank])
        elif rank < len(params.office_managers_top) + params.big_city_count:
            per_city.append(2)
        else:
            per_city.append(1)
    return per_city


def make_team(params: SynthParams, city_names: list[str], rng: np.random.Generator) -> Team:
    """Admin, the remote contact-centre team, then office managers city by city (bigger cities first)."""
    n_cities = len(city_names)
    per_city = _managers_per_city(params, n_cities)
    n_users = 1 + params.cc_team + sum(per_city)
    speed = np.exp(rng.normal(0, 0.35, n_users))
    conv = np.clip(rng.normal(1.0, params.manager_conv_sd, n_users), 0.8, 1.2)
    group = np.zeros(n_users, dtype=np.int64)
    group[1 : 1 + params.cc_team] = 101
    city_of = np.full(n_users, -1)
    mgr_start = np.zeros(n_cities, dtype=np.int64)
    mgr_count = np.asarray(per_city, dtype=np.int64)
    user = 1 + params.cc_team
    for city in range(n_cities):
        mgr_start[city] = user
        city_of[user : user + per_city[city]] = city
        group[user : user + per_city[city]] = 200 + city
        user += per_city[city]
    slow = int(mgr_start[0] + mgr_count[0] - 1)  # the last Moscow office manager
    speed[slow] = params.slow_manager_speed
    conv[slow] = params.slow_manager_conv
    ids = 8_000_001 + np.arange(n_users, dtype=np.int64)
    combo = rng.choice(len(STAFF_FIRST) * len(LAST_NAMES), n_users, replace=False)  # unique staff names
    first, last = np.divmod(combo, len(LAST_NAMES))
    records = [
        _user_record(params, user, int(ids[user]), int(group[user]), int(city_of[user]), first[user], last[user])
        for user in range(n_users)
    ]
    return Team(records, ids, group, speed, conv, mgr_start, mgr_count, slow)


def _user_record(
    params: SynthParams, user: int, user_id: int, group: int, city: int, first: int, last: int
) -> dict[str, Any]:
    first_name = STAFF_FIRST[first]
    last_name = LAST_NAMES[last]
    if first_name.endswith(("а", "я")):
        last_name = last_name + "а"
    if user == 0:
        name = "Администратор"
    elif city < 0:
        name = f"{first_name} {last_name} (КЦ)"
    else:
        name = f"{first_name} {last_name}"
    return {
        "id": user_id,
        "name": name,
        "email": f"user{user}@{params.subdomain}.example",
        "lang": "ru",
        "rights": {
            "is_admin": user == 0,
            "is_free": False,
            "is_active": True,
            "group_id": group or None,
            "role_id": None,
        },
        "_links": {"self": {"href": f"{params.host}/api/v4/users/{user_id}"}},
    }


STATUS_COLORS = ("#c1c1c1", "#99ccff", "#ffcccc", "#ffff99", "#ff8f92", "#87f2c0", "#ffc8c8", "#ccc8f9", "#deff81")


def _status_record(params: SynthParams, pipeline: int, pipeline_id: int, slot: int, status_id: int) -> dict[str, Any]:
    name = STATUS_NAMES[slot]
    if slot == S_NO_SHOW and pipeline == params.yo_pipeline:
        name = "Не пришёл"
    if slot == S_UNSORTED:
        color = "#c1e0ff"
    elif slot >= S_WON:
        color = "#CCFF66" if slot == S_WON else "#D5D8DB"
    else:
        color = STATUS_COLORS[slot - 1]
    return {
        "id": status_id,
        "name": name,
        "sort": 10 * (slot + 1) if slot < S_WON else (10000 if slot == S_WON else 11000),
        "is_editable": slot not in (S_UNSORTED, S_WON, S_LOST),
        "pipeline_id": pipeline_id,
        "color": color,
        "type": 1 if slot == S_UNSORTED else 0,
        "account_id": params.account_id,
        "_links": {"self": {"href": f"{params.host}/api/v4/leads/pipelines/{pipeline_id}/statuses/{status_id}"}},
    }


def make_pipelines(params: SynthParams) -> tuple[list[dict[str, Any]], np.ndarray, np.ndarray]:
    """The two pipelines with their statuses; won and lost are amoCRM's fixed 142 and 143."""
    pipeline_ids = np.array([7_000_001, 7_000_002], dtype=np.int64)
    status_ids = np.zeros((2, 11), dtype=np.int64)
    out = []
    next_id = 61_000_001
    for pipeline in range(2):
        statuses = []
        for slot in range(11):
            if slot == S_WON:
                status_id = 142
            elif slot == S_LOST:
                status_id = 143
            else:
                status_id = next_id
                next_id += 1
            status_ids[pipeline, slot] = status_id
            statuses.append(_status_record(params, pipeline, int(pipeline_ids[pipeline]), slot, status_id))
        out.append(
            {
                "id": int(pipeline_ids[pipeline]),
                "name": PIPELINE_NAMES[pipeline],
                "sort": pipeline + 1,
                "is_main": pipeline == 0,
                "is_unsorted_on": True,
                "is_archive": False,
                "account_id": params.account_id,
                "_links": {"self": {"href": f"{params.host}/api/v4/leads/pipelines/{int(pipeline_ids[pipeline])}"}},
                "_embedded": {"statuses": statuses},
            }
        )
    return out, status_ids, pipeline_ids


def _select_field(
    params: SynthParams, field_id: int, name: str, sort: int, enums: list[dict[str, Any]]
) -> dict[str, Any]:
    return {
        "id": field_id,
        "name": name,
        "type": "select",
        "account_id": params.account_id,
        "code": None,
        "sort": sort,
        "is_api_only": False,
        "enums": enums,
        "group_id": None,
        "required_statuses": [],
        "is_deletable": True,
        "is_predefined": False,
        "entity_type": "leads",
        "remind": None,
        "triggers": [],
        "currency": None,
        "hidden_statuses": [],
        "chained_lists": None,
        "_links": {"self": {"href": f"{params.host}/api/v4/leads/custom_fields/{field_id}"}},
    }


def make_fields(params: SynthParams, city_names: list[str]) -> tuple[list[dict[str, Any]], list[int], list[int]]:
    """The lead custom fields "Город" and "Пакет" (both select lists) and their enum ids."""
    city_enums = [1_100_001 + i for i in range(len(city_names))]
    package_enums = [1_200_001 + i for i in range(len(params.packages))]
    city_values = [
        {"id": enum_id, "value": city, "sort": 10 * (i + 1)}
        for i, (city, enum_id) in enumerate(zip(city_names, city_enums, strict=True))
    ]
    package_values = [
        {"id": enum_id, "value": f"{name}", "sort": 10 * (i + 1)}
        for i, ((name, _), enum_id) in enumerate(zip(params.packages, package_enums, strict=True))
    ]
    fields = [
        _select_field(params, CITY_FIELD_ID, "Город", 510, city_values),
        _select_field(params, PACKAGE_FIELD_ID, "Пакет", 520, package_values),
    ]
    return fields, city_enums, package_enums
