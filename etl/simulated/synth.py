"""Synthetic amoCRM account: a deterministic, realistic sales business for the demo and the emulator.

Every deal is simulated once over its whole life (status changes, calls, SMS, tasks with their
completion times) into flat numpy arrays; :meth:`SynthAccount.as_of` then only *filters* that
timeline by a time ``t`` and shapes API v4 dicts.  This is what lets the emulator "advance its
clock" cheaply and keeps the account identical for the same seed and parameters.
See ``docs/demo-account.md`` for the behaviour parameters and the quirks.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from etl.extract.rawio import COLLECTIONS

DAY = 86_400
HOUR = 3_600
MINUTE = 60
INF = 2**62

# Status slots of the default account (DATA.md "Default account"), in pipeline order.
S_UNSORTED, S_NEW, S_NO_ANSWER, S_PHONE, S_NOT_BOOKED, S_BOOKED, S_NO_SHOW, S_ATTENDED, S_CONTRACT, S_WON, S_LOST = (
    range(11)
)
STATUS_NAMES = (
    "Неразобранное",
    "Новая заявка",
    "Не отвечает",
    "Номер получен",
    "Не записался на консультацию",
    "Записан на консультацию",
    "Не пришел",
    "Пришел на консультацию",
    "Заключен договор",
    "Успешно реализовано",
    "Закрыто и не реализовано",
)
CC, OFFICE = 0, 1
PIPELINE_NAMES = ("Контакт-центр", "Офис")

# Rough populations (millions) of the config's cities: the weight of a city's lead flow.
CITY_POPULATION = {
    "Москва": 13.1,
    "Санкт-Петербург": 5.6,
    "Новосибирск": 1.63,
    "Екатеринбург": 1.54,
    "Казань": 1.31,
    "Нижний Новгород": 1.21,
    "Красноярск": 1.2,
    "Челябинск": 1.18,
    "Самара": 1.16,
    "Уфа": 1.14,
    "Краснодар": 1.1,
    "Ростов-на-Дону": 1.14,
    "Омск": 1.11,
    "Воронеж": 1.05,
    "Пермь": 1.03,
    "Волгоград": 1.0,
    "Саратов": 0.9,
    "Тюмень": 0.85,
    "Тольятти": 0.68,
    "Ижевск": 0.64,
    "Барнаул": 0.63,
    "Ульяновск": 0.62,
    "Иркутск": 0.62,
    "Хабаровск": 0.62,
    "Махачкала": 0.62,
    "Владивосток": 0.6,
    "Ярославль": 0.57,
    "Томск": 0.57,
    "Оренбург": 0.55,
    "Кемерово": 0.55,
    "Новокузнецк": 0.54,
    "Рязань": 0.53,
    "Калининград": 0.49,
}

FIRST_NAMES = (
    "Александр Дмитрий Максим Иван Артём Никита Михаил Даниил Егор Андрей Кирилл Илья Матвей Роман "
    "Сергей Владимир Тимофей Глеб Павел Денис Алексей Евгений Ярослав Степан Фёдор Марк Лев Арсений"
).split()
PARENT_NAMES = "Елена Ольга Наталья Ирина Татьяна Светлана Марина Юлия Анна Оксана Галина Людмила".split()
LAST_NAMES = (
    "Иванов Смирнов Кузнецов Попов Васильев Петров Соколов Михайлов Новиков Фёдоров Морозов Волков "
    "Алексеев Лебедев Семёнов Егоров Павлов Козлов Степанов Николаев Орлов Андреев Макаров Никитин "
    "Захаров Зайцев Соловьёв Борисов Яковлев Григорьев Романов Воробьёв Сергеев Кузьмин Фролов"
).split()
STAFF_FIRST = (
    "Анна Мария Екатерина Дарья Полина Виктория Ксения Алина Валерия Вера Ольга Софья Алёна Яна "
    "Антон Олег Игорь Руслан Тимур Вадим Григорий Константин Виктор Борис Артур Филипп Эдуард"
).split()

TASK_TEXTS = {
    0: "Связаться с клиентом",
    1: "Дозвониться повторно",
    2: "Записать на консультацию",
    3: "Провести консультацию",
    4: "Перезаписать после неявки",
    5: "Подготовить договор",
    6: "Проверить оплату",
    7: "Перезвонить",
}
TASK_RESULTS = ("Дозвонились", "Клиент думает", "Записан", "Договорились", "Перезвонить позже", "Готово")


@dataclass(frozen=True)
class SynthParams:
    """Behaviour of the demo business (DATA.md "How the demo account should behave").

    Probabilities are per deal and are multiplied by the deal's manager and city factors.
    """

    host: str = "https://prizyva-net.amocrm.ru"
    account_id: int = 31_415_926
    subdomain: str = "prizyva-net"
    account_timezone: str = "Europe/Moscow"
    config_path: str | None = None  # config.yaml giving the cities and their time zones
    # volume: month factors (Jan..Dec, at mid-month, interpolated), weekday (Mon..Sun), local hour
    month_factors: tuple[float, ...] = (0.55, 0.65, 0.85, 1.3, 1.45, 1.35, 1.15, 0.6, 0.8, 1.35, 1.5, 1.15)
    weekday_factors: tuple[float, ...] = (1.2, 1.15, 1.1, 1.05, 1.0, 0.65, 0.4)
    hour_factors: tuple[float, ...] = (
        0.12, 0.06, 0.04, 0.03, 0.03, 0.05, 0.12, 0.3, 0.6, 1.0, 1.35, 1.5,
        1.5, 1.45, 1.45, 1.4, 1.4, 1.35, 1.3, 1.25, 1.15, 0.95, 0.65, 0.3,
    )  # fmt: skip
    growth_per_year: float = 0.1
    city_weight_power: float = 0.9
    # team
    office_managers_top: tuple[int, ...] = (6, 4)  # Moscow, Saint Petersburg
    big_city_count: int = 6  # the next cities by size get 2 managers, the rest 1
    cc_team: int = 10
    slow_manager_speed: float = 4.0  # the slow manager's first call takes this many times longer
    slow_manager_conv: float = 0.6  # ... and converts this much worse
    manager_conv_sd: float = 0.07
    city_conv_sd: float = 0.05
    # routing
    cc_start_share: float = 0.36  # deals that start in the contact centre
    cc_keep_booked_share: float = 0.12  # CC-booked deals consulted by the CC itself (not transferred)
    # conversion
    p_phone: float = 0.68
    p_junk: float = 0.12  # of the unreached: wrong numbers / spam closed within a day
    p_book: float = 0.48
    p_attend: float = 0.63
    p_rebook: float = 1 / 3
    p_contract: float = 0.38
    p_refund: float = 0.02
    p_lost_not_booked: float = 0.8
    p_lost_no_show: float = 0.85
    p_lost_no_contract: float = 0.7
    # timing
    first_call_median_min: float = 12.0
    work_start_h: int = 9
    work_end_h: int = 21
    # touches
    p_call_on_contact: float = 0.4
    p_welcome_sms: float = 0.15  # robot SMS right after the request (rare: it would hide the first-touch time)
    answered_median_s: float = 240.0
    # packages (name, list price)
    packages: tuple[tuple[str, int], ...] = (("Базовый", 35_000), ("Стандарт", 70_000), ("Премиум", 120_000))
    package_weights: tuple[float, ...] = (0.45, 0.38, 0.17)
    # tasks
    p_task_open: float = 0.07
    # quirks
    p_no_city: float = 0.03
    p_returning: float = 0.05
    p_deleted: float = 0.01
    p_restored: float = 0.0005
    p_robot_booked: float = 0.005
    unknown_event_share: float = 0.0001
    p_duration_str: float = 0.02
    p_created_new: float = 0.4  # created by a manager straight into "Новая заявка" (incoming call)
    yo_pipeline: int = OFFICE  # the pipeline whose "Не пришёл" is spelled with ё


@contextlib.contextmanager
def _no_gc() -> Iterator[None]:
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _utc(dt: datetime) -> datetime:
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def _ts(dt: datetime) -> int:
    return int(_utc(dt).timestamp())


def _iso(ts: int) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _load_cities(params: SynthParams) -> dict[str, str]:
    """The config's cities → time zone (names must match what ``etl build`` maps)."""
    from etl.config import load_config

    return dict(load_config(params.config_path).cities)


# ---------------------------------------------------------------- vectorised time helpers
def _to_work(ts: np.ndarray, off: np.ndarray, start_h: int, end_h: int) -> np.ndarray:
    """Move times outside local working hours to the next working-hours start (same day or next)."""
    sod = (ts + off) % DAY
    start, end = start_h * HOUR, end_h * HOUR
    shift = np.where(sod < start, start - sod, np.where(sod >= end, DAY - sod + start, 0))
    return ts + shift


def _local_weekday(ts: np.ndarray, off: np.ndarray) -> np.ndarray:
    """0 = Monday (1970-01-01 was a Thursday)."""
    return ((ts + off) // DAY + 3) % 7


def _uniform(rng: np.random.Generator, lo: float, hi: float, n: int) -> np.ndarray:
    return rng.uniform(lo, hi, n).astype(np.int64)


# ---------------------------------------------------------------- the account
@dataclass
class SynthAccount:
    """A whole simulated account; :meth:`as_of` shows it as amoCRM would at any time."""

    start: datetime
    end: datetime
    horizon_days: int
    seed: int
    params: SynthParams
    meta: dict[str, Any]
    users: list[dict[str, Any]]
    pipelines: list[dict[str, Any]]
    lead_fields: list[dict[str, Any]]
    status_ids: np.ndarray  # [pipeline, slot] → status id
    pipeline_ids: np.ndarray
    user_ids: np.ndarray  # user index → id
    user_groups: np.ndarray
    city_names: list[str]
    city_enum_ids: list[int]
    city_field_id: int
    package_field_id: int
    package_enum_ids: list[int]
    deals: dict[str, np.ndarray]
    changes: dict[str, np.ndarray]
    contacts: dict[str, Any]
    notes: dict[str, Any]
    tasks: dict[str, np.ndarray]
    events: dict[str, np.ndarray]
    counts: dict[str, int] = field(default_factory=dict)

    def __repr__(self) -> str:  # the arrays are millions of rows: keep reprs readable
        return f"SynthAccount(start={_iso(_ts(self.start))}, end={_iso(_ts(self.end))}, seed={self.seed}, counts={self.counts})"

    # -------------------------------------------------------------- shaping helpers
    def _link(self, path: str) -> dict[str, Any]:
        return {"self": {"href": f"{self.params.host}/api/v4/{path}"}}

    def as_of(self, t: datetime) -> dict[str, Any]:
        """The account exactly as amoCRM API v4 would show it at time ``t`` (API-shaped dicts).

        Fresh dicts on every call (callers may mutate them).  The cyclic GC is paused meanwhile:
        millions of small dicts would otherwise trigger it again and again for nothing.
        """
        with _no_gc():
            return self._as_of(_ts(t))

    def _as_of(self, ts: int) -> dict[str, Any]:
        return {
            "account": self._account(),
            "users": json.loads(json.dumps(self.users)),
            "pipelines": json.loads(json.dumps(self.pipelines)),
            "lead_fields": json.loads(json.dumps(self.lead_fields)),
            **self._leads(ts),
            "contacts": self._contacts(ts),
            "events": self._events(ts),
            **self._notes(ts),
            "tasks": self._tasks(ts),
        }

    def export(
        self,
        out_dir: Path,
        t: datetime,
        *,
        source: str = "emulator",
        pulled_at: datetime | None = None,
        extra: dict | None = None,
        chunk: int = 50_000,
        progress: Any = None,
    ) -> None:
        """``write_raw_export(out_dir, self.as_of(t), …)`` byte for byte, built and written chunk by chunk.

        Never holds the whole view in memory (a five-year account is tens of millions of dicts).
        """
        ts = _ts(t)
        writer = _ExportWriter(out_dir)
        try:
            with _no_gc():
                writer.add("users", json.loads(json.dumps(self.users)))
                writer.add("pipelines", json.loads(json.dumps(self.pipelines)))
                writer.add("lead_fields", json.loads(json.dumps(self.lead_fields)))
                st = self._lead_state(ts)
                deleted: list[dict[str, Any]] = []
                for lo in range(0, int(st["n"]), chunk):
                    part = self._leads(ts, st, lo, lo + chunk)
                    writer.add("leads", part["leads"])
                    deleted += part["deleted_leads"]
                writer.add("leads", deleted)
                links = self._contact_links(ts)
                for lo in range(0, len(self.contacts["id"]), chunk):
                    writer.add("contacts", self._contacts(ts, links, lo, lo + chunk))
                if progress:
                    progress(f"leads and contacts written ({writer.summary['leads']['records']} leads)")
                for lo in range(0, len(self.events["created"]), chunk):
                    writer.add_lines("events", *self._event_lines(ts, lo, lo + chunk))
                if progress:
                    progress(f"events written ({writer.summary['events']['records']})")
                for lo in range(0, len(self.notes["created"]), chunk):
                    part = self._notes(ts, lo, lo + chunk)
                    writer.add("lead_notes", part["lead_notes"])
                    writer.add("contact_notes", part["contact_notes"])
                for lo in range(0, len(self.tasks["created"]), chunk):
                    writer.add("tasks", self._tasks(ts, lo, lo + chunk))
                if progress:
                    progress(
                        f"notes and tasks written ({writer.summary['lead_notes']['records']} + "
                        f"{writer.summary['contact_notes']['records']} notes, {writer.summary['tasks']['records']} tasks)"
                    )
            writer.commit(self._account(), source, pulled_at or t, extra)
        except BaseException:
            writer.abort()
            raise

    def _account(self) -> dict[str, Any]:
        p = self.params
        created = _ts(self.start) - 400 * DAY
        return {
            "id": p.account_id,
            "name": "Призыва.нет",
            "subdomain": p.subdomain,
            "created_at": created,
            "created_by": 0,
            "updated_at": created,
            "updated_by": 0,
            "current_user_id": int(self.user_ids[0]),
            "country": "RU",
            "currency": "RUB",
            "currency_symbol": "₽",
            "customers_mode": "disabled",
            "is_unsorted_on": True,
            "mobile_feature_version": 0,
            "is_loss_reason_enabled": False,
            "is_helpbot_enabled": False,
            "is_technical_account": False,
            "contact_name_display_order": 1,
            "_links": self._link("account"),
            "_embedded": {
                "datetime_settings": {
                    "date_pattern": "d.m.Y H:i",
                    "short_date_pattern": "d.m.Y",
                    "short_time_pattern": "H:i",
                    "date_format": "d.m.Y",
                    "time_format": "H:i:s",
                    "timezone": p.account_timezone,
                    "timezone_offset": "+03:00",
                }
            },
        }

    # -------------------------------------------------------------- leads
    def _lead_state(self, ts: int) -> dict[str, np.ndarray]:
        """Per deal created <= ts: status, pipeline, responsible, updated/closed time, as at ts."""
        d, ch = self.deals, self.changes
        n = int(np.searchsorted(d["created"], ts, side="right"))
        mask = ch["time"] <= ts
        cnt = np.bincount(ch["deal"][mask], minlength=len(d["created"]))[:n]
        last = ch["start"][:n] + cnt - 1
        has = cnt > 0
        last_c = np.where(has, last, 0)
        status = np.where(has, ch["status"][last_c], d["init_status"][:n])
        pipe = np.where(has, ch["pipe"][last_c], d["init_pipe"][:n])
        last_t = np.where(has, ch["time"][last_c], d["created"][:n])
        upd_by = np.where(has, ch["user"][last_c], d["creator"][:n])
        transferred = d["t_transfer"][:n] <= ts
        resp = np.where(transferred, d["resp1"][:n], d["resp0"][:n])
        restored = d["t_restore"][:n] <= ts
        updated = np.maximum(last_t, np.where(transferred, d["t_transfer"][:n], 0))
        updated = np.maximum(updated, np.where(restored, d["t_restore"][:n], 0))
        closed = np.isin(status, (142, 143))
        deleted = (d["t_delete"][:n] <= ts) & ~restored
        contract = d["t_contract"][:n] <= ts
        # closest open task deadline per deal
        tk = self.tasks
        open_ = (tk["created"] <= ts) & (tk["completed"] > ts) & (tk["deal"] < n)
        closest = np.full(n, INF, dtype=np.int64)
        np.minimum.at(closest, tk["deal"][open_], tk["deadline"][open_])
        return {
            "n": np.int64(n),
            "status": status,
            "pipe": pipe,
            "updated": updated,
            "upd_by": upd_by,
            "resp": resp,
            "closed_at": np.where(closed, last_t, -1),
            "deleted": deleted,
            "contract": contract,
            "closest": closest,
        }

    def _leads(
        self, ts: int, st: dict[str, np.ndarray] | None = None, lo: int = 0, hi: int | None = None
    ) -> dict[str, list[dict[str, Any]]]:
        d = self.deals
        st = self._lead_state(ts) if st is None else st
        n = int(st["n"])
        hi = n if hi is None else min(hi, n)
        lo = min(lo, hi)
        host = self.params.host
        acc = self.params.account_id
        uids, groups = self.user_ids, self.user_groups
        leads: list[dict[str, Any]] = []
        deleted: list[dict[str, Any]] = []
        ids = d["id"][lo:hi].tolist()
        created = d["created"][lo:hi].tolist()
        status, pipe = st["status"][lo:hi].tolist(), st["pipe"][lo:hi].tolist()
        updated, upd_by = st["updated"][lo:hi].tolist(), st["upd_by"][lo:hi].tolist()
        resp, closed_at = st["resp"][lo:hi].tolist(), st["closed_at"][lo:hi].tolist()
        is_del, contract = st["deleted"][lo:hi].tolist(), st["contract"][lo:hi].tolist()
        closest = st["closest"][lo:hi].tolist()
        creator = d["creator"][lo:hi].tolist()
        city = d["city"][lo:hi].tolist()
        has_city = d["has_city"][lo:hi].tolist()
        price = d["price"][lo:hi].tolist()
        package = d["package"][lo:hi].tolist()
        contact = d["contact_id"][lo:hi].tolist()
        name = d["name_kind"][lo:hi].tolist()
        t_delete = d["t_delete"][lo:hi].tolist()
        names = ("Заявка с сайта", "Входящий звонок", "Онлайн-запись")
        city_fid, pkg_fid = self.city_field_id, self.package_field_id
        for i in range(hi - lo):
            lid = ids[i]
            if is_del[i]:
                deleted.append(
                    {
                        "id": lid,
                        "name": None,
                        "price": None,
                        "responsible_user_id": None,
                        "group_id": None,
                        "status_id": None,
                        "pipeline_id": None,
                        "loss_reason_id": None,
                        "created_by": None,
                        "updated_by": int(uids[upd_by[i]]) if upd_by[i] >= 0 else 0,
                        "created_at": None,
                        "updated_at": t_delete[i],
                        "closed_at": None,
                        "closest_task_at": None,
                        "is_deleted": True,
                        "custom_fields_values": None,
                        "score": None,
                        "account_id": acc,
                        "labor_cost": None,
                        "_links": {"self": {"href": f"{host}/api/v4/leads/{lid}"}},
                        "_embedded": {"tags": [], "companies": []},
                    }
                )
                continue
            cfv = []
            if has_city[i]:
                cfv.append(
                    {
                        "field_id": city_fid,
                        "field_name": "Город",
                        "field_code": None,
                        "field_type": "select",
                        "values": [{"value": self.city_names[city[i]], "enum_id": self.city_enum_ids[city[i]]}],
                    }
                )
            if contract[i]:
                k = package[i]
                cfv.append(
                    {
                        "field_id": pkg_fid,
                        "field_name": "Пакет",
                        "field_code": None,
                        "field_type": "select",
                        "values": [{"value": self.params.packages[k][0], "enum_id": self.package_enum_ids[k]}],
                    }
                )
            r = resp[i]
            leads.append(
                {
                    "id": lid,
                    "name": f"{names[name[i]]} #{lid}",
                    "price": price[i] if contract[i] else 0,
                    "responsible_user_id": int(uids[r]),
                    "group_id": int(groups[r]),
                    "status_id": status[i],
                    "pipeline_id": pipe[i],
                    "loss_reason_id": None,
                    "created_by": int(uids[creator[i]]) if creator[i] >= 0 else 0,
                    "updated_by": int(uids[upd_by[i]]) if upd_by[i] >= 0 else 0,
                    "created_at": created[i],
                    "updated_at": updated[i],
                    "closed_at": closed_at[i] if closed_at[i] >= 0 else None,
                    "closest_task_at": closest[i] if closest[i] < INF else None,
                    "is_deleted": False,
                    "custom_fields_values": cfv or None,
                    "score": None,
                    "account_id": acc,
                    "labor_cost": None,
                    "_links": {"self": {"href": f"{host}/api/v4/leads/{lid}"}},
                    "_embedded": {
                        "tags": [],
                        "companies": [],
                        "contacts": [
                            {
                                "id": contact[i],
                                "is_main": True,
                                "_links": {"self": {"href": f"{host}/api/v4/contacts/{contact[i]}"}},
                            }
                        ],
                    },
                }
            )
        return {"leads": leads, "deleted_leads": deleted}

    # -------------------------------------------------------------- contacts
    def _contacts(
        self, ts: int, links: dict[int, list[int]] | None = None, lo: int = 0, hi: int | None = None
    ) -> list[dict[str, Any]]:
        c = self.contacts
        host, acc = self.params.host, self.params.account_id
        n = int(np.searchsorted(c["created"], ts, side="right"))
        hi = n if hi is None else min(hi, n)
        lo = min(lo, hi)
        links = self._contact_links(ts) if links is None else links
        link_t = c["link2"][lo:hi]
        updated = np.where(link_t <= ts, link_t, c["created"][lo:hi]).tolist()
        out = []
        ids, created, resp = c["id"][lo:hi].tolist(), c["created"][lo:hi].tolist(), c["resp"][lo:hi].tolist()
        uids, groups = self.user_ids, self.user_groups
        for i in range(hi - lo):
            cid = ids[i]
            j = lo + i
            first, last = c["first"][j], c["last"][j]
            phones = [{"value": c["phone"][j], "enum_id": 1001, "enum_code": "MOB"}]
            if c["phone2"][j]:
                phones.append({"value": c["phone2"][j], "enum_id": 1002, "enum_code": "WORK"})
            out.append(
                {
                    "id": cid,
                    "name": f"{first} {last}",
                    "first_name": first,
                    "last_name": last,
                    "responsible_user_id": int(uids[resp[i]]),
                    "group_id": int(groups[resp[i]]),
                    "created_by": 0,
                    "updated_by": 0,
                    "created_at": created[i],
                    "updated_at": updated[i],
                    "closest_task_at": None,
                    "is_deleted": False,
                    "is_unsorted": False,
                    "custom_fields_values": [
                        {
                            "field_id": 500001,
                            "field_name": "Телефон",
                            "field_code": "PHONE",
                            "field_type": "multitext",
                            "values": phones,
                        }
                    ],
                    "account_id": acc,
                    "_links": {"self": {"href": f"{host}/api/v4/contacts/{cid}"}},
                    "_embedded": {
                        "tags": [],
                        "companies": [],
                        "leads": [
                            {"id": x, "_links": {"self": {"href": f"{host}/api/v4/leads/{x}"}}}
                            for x in links.get(j, [])
                        ],
                    },
                }
            )
        return out

    def _contact_links(self, ts: int) -> dict[int, list[int]]:
        """Contact index → ids of its deals visible at ``ts`` (ascending)."""
        d = self.deals
        nd = int(np.searchsorted(d["created"], ts, side="right"))
        visible = ~((d["t_delete"][:nd] <= ts) & (d["t_restore"][:nd] > ts))
        ci = d["contact_idx"][:nd][visible]
        lid = d["id"][:nd][visible]
        order = np.lexsort((lid, ci))
        links: dict[int, list[int]] = {}
        for a, b in zip(ci[order].tolist(), lid[order].tolist(), strict=True):
            links.setdefault(a, []).append(b)
        return links

    # -------------------------------------------------------------- events
    def _events(self, ts: int, lo: int = 0, hi: int | None = None) -> list[dict[str, Any]]:
        e = self.events
        n = int(np.searchsorted(e["created"], ts, side="right"))
        hi = n if hi is None else min(hi, n)
        lo = min(lo, hi)
        host, acc = self.params.host, self.params.account_id
        types = EVENT_TYPES
        ent_names = ("lead", "contact", "task")
        # string ids, as amoCRM's: creation time and sequence number in hex (unique, growing with time)
        ids = [f"{t:x}{i:07x}" for i, t in enumerate(e["created"][lo:hi].tolist(), start=lo)]
        typ, ent, eid = e["type"][lo:hi].tolist(), e["etype"][lo:hi].tolist(), e["eid"][lo:hi].tolist()
        by, created = e["by"][lo:hi].tolist(), e["created"][lo:hi].tolist()
        a0, a1, b0, b1 = (e[k][lo:hi].tolist() for k in ("a0", "a1", "b0", "b1"))
        uids = self.user_ids.tolist()
        out = []
        for i in range(hi - lo):
            ty = typ[i]
            if ty == 0:  # lead_added
                before, after = [], [{"lead_status": {"id": a0[i], "pipeline_id": a1[i]}}]
            elif ty == 1:  # lead_status_changed
                before = [{"lead_status": {"id": b0[i], "pipeline_id": b1[i]}}]
                after = [{"lead_status": {"id": a0[i], "pipeline_id": a1[i]}}]
            elif ty == 2:  # entity_responsible_changed
                before = [{"responsible_user": {"id": uids[b0[i]]}}]
                after = [{"responsible_user": {"id": uids[a0[i]]}}]
            elif ty >= 7:  # call / sms: points to the note
                before, after = [], [{"note": {"id": a0[i]}}]
            else:
                before, after = [], []
            out.append(
                {
                    "id": ids[i],
                    "type": types[ty],
                    "entity_id": eid[i],
                    "entity_type": ent_names[ent[i]],
                    "created_by": uids[by[i]] if by[i] >= 0 else 0,
                    "created_at": created[i],
                    "value_after": after,
                    "value_before": before,
                    "account_id": acc,
                    "_links": {"self": {"href": f"{host}/api/v4/events/{ids[i]}"}},
                }
            )
        return out

    def _event_lines(self, ts: int, lo: int, hi: int) -> tuple[list[str], int | None]:
        """The JSON lines of :meth:`_events` (same bytes), formatted straight from the arrays.

        Events are most of an export; skipping the dicts and the JSON encoder makes it ~3× cheaper.
        Every value is a number or a fixed ASCII string, so no escaping is needed (the host is escaped).
        """
        e = self.events
        n = int(np.searchsorted(e["created"], ts, side="right"))
        hi = min(hi, n)
        lo = min(lo, hi)
        if hi <= lo:
            return [], None
        host = json.dumps(self.params.host, ensure_ascii=False)[1:-1]
        acc = self.params.account_id
        uids = [0, *self.user_ids.tolist()]  # index by + 1: -1 (robot) → 0
        created = e["created"][lo:hi].tolist()
        typ, ent, eid = e["type"][lo:hi].tolist(), e["etype"][lo:hi].tolist(), e["eid"][lo:hi].tolist()
        by = e["by"][lo:hi].tolist()
        a0, a1, b0, b1 = (e[k][lo:hi].tolist() for k in ("a0", "a1", "b0", "b1"))
        ent_names = ("lead", "contact", "task")
        out = []
        for i in range(hi - lo):
            ty = typ[i]
            if ty == 0:
                va, vb = f'[{{"lead_status":{{"id":{a0[i]},"pipeline_id":{a1[i]}}}}}]', "[]"
            elif ty == 1:
                va = f'[{{"lead_status":{{"id":{a0[i]},"pipeline_id":{a1[i]}}}}}]'
                vb = f'[{{"lead_status":{{"id":{b0[i]},"pipeline_id":{b1[i]}}}}}]'
            elif ty == 2:
                va = f'[{{"responsible_user":{{"id":{uids[a0[i] + 1]}}}}}]'
                vb = f'[{{"responsible_user":{{"id":{uids[b0[i] + 1]}}}}}]'
            elif ty >= 7:
                va, vb = f'[{{"note":{{"id":{a0[i]}}}}}]', "[]"
            else:
                va = vb = "[]"
            sid = f"{created[i]:x}{lo + i:07x}"
            out.append(
                f'{{"id":"{sid}","type":"{EVENT_TYPES[ty]}","entity_id":{eid[i]},"entity_type":"{ent_names[ent[i]]}",'
                f'"created_by":{uids[by[i] + 1]},"created_at":{created[i]},"value_after":{va},"value_before":{vb},'
                f'"account_id":{acc},"_links":{{"self":{{"href":"{host}/api/v4/events/{sid}"}}}}}}'
            )
        return out, max(created)

    # -------------------------------------------------------------- notes
    def _notes(self, ts: int, lo: int = 0, hi: int | None = None) -> dict[str, list[dict[str, Any]]]:
        nt = self.notes
        n = int(np.searchsorted(nt["created"], ts, side="right"))
        hi = n if hi is None else min(hi, n)
        lo = min(lo, hi)
        host, acc = self.params.host, self.params.account_id
        kinds = ("call_in", "call_out", "sms_in", "sms_out")
        ids, created = nt["id"][lo:hi].tolist(), nt["created"][lo:hi].tolist()
        kind, on_contact = nt["kind"][lo:hi].tolist(), nt["on_contact"][lo:hi].tolist()
        ent, user = nt["entity"][lo:hi].tolist(), nt["user"][lo:hi].tolist()
        dur, dstr, status = (
            nt["duration"][lo:hi].tolist(),
            nt["dur_str"][lo:hi].tolist(),
            nt["call_status"][lo:hi].tolist(),
        )
        phone_of, text = nt["phone"], nt["text"]
        contact_idx = nt["contact_idx"][lo:hi].tolist()
        by = nt["by"][lo:hi].tolist()
        uids, groups = self.user_ids.tolist(), self.user_groups.tolist()
        lead_notes, contact_notes = [], []
        for i in range(hi - lo):
            k = kind[i]
            nid = ids[i]
            phone = phone_of[contact_idx[i]]
            if k < 2:
                uniq = f"{nid:08x}-{created[i]:08x}-4c1a-9e00-{(nid * 2654435761) % 2**48:012x}"
                params = {
                    "uniq": uniq,
                    "duration": str(dur[i]) if dstr[i] else dur[i],
                    "source": "Mango Office",
                    "link": f"https://records.mango-office.example/{uniq}.mp3" if dur[i] > 0 else "",
                    "phone": phone,
                    "call_result": "Разговор состоялся" if dur[i] > 0 else "",
                    "call_status": status[i],
                }
            else:
                params = {"text": text[lo + i], "phone": phone}
            u = user[i]
            path = "contacts" if on_contact[i] else "leads"
            rec = {
                "id": nid,
                "entity_id": ent[i],
                "created_by": uids[by[i]] if by[i] >= 0 else 0,
                "updated_by": uids[by[i]] if by[i] >= 0 else 0,
                "created_at": created[i],
                "updated_at": created[i],
                "responsible_user_id": uids[u],
                "group_id": groups[u],
                "note_type": kinds[k],
                "params": params,
                "account_id": acc,
                "_links": {"self": {"href": f"{host}/api/v4/{path}/{ent[i]}/notes/{nid}"}},
            }
            (contact_notes if on_contact[i] else lead_notes).append(rec)
        return {"lead_notes": lead_notes, "contact_notes": contact_notes}

    # -------------------------------------------------------------- tasks
    def _tasks(self, ts: int, lo: int = 0, hi: int | None = None) -> list[dict[str, Any]]:
        tk = self.tasks
        n = int(np.searchsorted(tk["created"], ts, side="right"))
        hi = n if hi is None else min(hi, n)
        lo = min(lo, hi)
        host, acc = self.params.host, self.params.account_id
        ids, created = tk["id"][lo:hi].tolist(), tk["created"][lo:hi].tolist()
        completed, deadline = tk["completed"][lo:hi].tolist(), tk["deadline"][lo:hi].tolist()
        kind, user, lead = tk["kind"][lo:hi].tolist(), tk["user"][lo:hi].tolist(), tk["lead_id"][lo:hi].tolist()
        res = tk["result"][lo:hi].tolist()
        uids, groups = self.user_ids.tolist(), self.user_groups.tolist()
        out = []
        for i in range(hi - lo):
            done = completed[i] <= ts
            tid = ids[i]
            u = user[i]
            out.append(
                {
                    "id": tid,
                    "created_by": uids[u],
                    "updated_by": uids[u],
                    "created_at": created[i],
                    "updated_at": completed[i] if done else created[i],
                    "responsible_user_id": uids[u],
                    "group_id": groups[u],
                    "entity_id": lead[i],
                    "entity_type": "leads",
                    "duration": 3600 if kind[i] == 3 else 0,
                    "is_completed": done,
                    "task_type_id": 2 if kind[i] == 3 else 1,
                    "text": TASK_TEXTS[kind[i]],
                    "result": {"text": TASK_RESULTS[res[i]]} if done and res[i] >= 0 else [],
                    "complete_till": deadline[i],
                    "account_id": acc,
                    "_links": {"self": {"href": f"{host}/api/v4/tasks/{tid}"}},
                }
            )
        return out


EVENT_TYPES = (
    "lead_added",
    "lead_status_changed",
    "entity_responsible_changed",
    "lead_deleted",
    "lead_restored",
    "task_added",
    "task_completed",
    "incoming_call",
    "outgoing_call",
    "incoming_sms",
    "outgoing_sms",
)


# ---------------------------------------------------------------- generation
def _season(ts: np.ndarray, month_factors: tuple[float, ...]) -> np.ndarray:
    """Smooth yearly factor: month factors at mid-month, linearly interpolated, mean ≈ 1."""
    days = (ts // DAY).astype("datetime64[D]")
    doy = (days - days.astype("datetime64[Y]").astype("datetime64[D]")).astype(np.int64)
    f = np.asarray(month_factors, dtype=float)
    xp = np.arange(-1, 13) + 0.5
    fp = np.concatenate([[f[-1]], f, [f[0]]])
    x = doy / 365.25 * 12
    grid = np.interp(np.arange(365) / 365.25 * 12, xp, fp)
    return np.interp(x, xp, fp) / grid.mean()


def _force_one(mask: np.ndarray, eligible: np.ndarray) -> np.ndarray:
    """A quirk must show at least once: if ``mask`` hits no eligible row, take the first eligible."""
    if not (mask & eligible).any() and eligible.any():
        mask = mask.copy()
        mask[int(np.argmax(eligible))] = True
    return mask


def _schedule_consultation(
    rng: np.random.Generator, base: np.ndarray, off: np.ndarray, days_lo: int, days_hi: int
) -> np.ndarray:
    """A consultation slot 1–7 days after ``base``, 10:00–19:00 local, never on a Sunday."""
    k = rng.integers(days_lo, days_hi + 1, len(base))
    day0 = ((base + off) // DAY + k) * DAY - off
    sunday = _local_weekday(day0 + 12 * HOUR, off) == 6
    day0 = day0 + np.where(sunday, DAY, 0)
    return day0 + 10 * HOUR + 1800 * rng.integers(0, 18, len(base))


def _make_users(p: SynthParams, city_names: list[str], rng: np.random.Generator) -> dict[str, Any]:
    """Admin, the remote contact-centre team, then office managers city by city (bigger cities first)."""
    n_cities = len(city_names)
    per_city = []
    for rank in range(n_cities):
        if rank < len(p.office_managers_top):
            per_city.append(p.office_managers_top[rank])
        elif rank < len(p.office_managers_top) + p.big_city_count:
            per_city.append(2)
        else:
            per_city.append(1)
    n_users = 1 + p.cc_team + sum(per_city)
    speed = np.exp(rng.normal(0, 0.35, n_users))
    conv = np.clip(rng.normal(1.0, p.manager_conv_sd, n_users), 0.8, 1.2)
    group = np.zeros(n_users, dtype=np.int64)
    group[1 : 1 + p.cc_team] = 101
    city_of = np.full(n_users, -1)
    mgr_start = np.zeros(n_cities, dtype=np.int64)
    mgr_count = np.asarray(per_city, dtype=np.int64)
    i = 1 + p.cc_team
    for c in range(n_cities):
        mgr_start[c] = i
        city_of[i : i + per_city[c]] = c
        group[i : i + per_city[c]] = 200 + c
        i += per_city[c]
    slow = int(mgr_start[0] + mgr_count[0] - 1)  # the last Moscow office manager
    speed[slow] = p.slow_manager_speed
    conv[slow] = p.slow_manager_conv
    ids = 8_000_001 + np.arange(n_users, dtype=np.int64)
    combo = rng.choice(len(STAFF_FIRST) * len(LAST_NAMES), n_users, replace=False)  # unique staff names
    first, last = np.divmod(combo, len(LAST_NAMES))
    records = []
    for u in range(n_users):
        fn = STAFF_FIRST[first[u]]
        ln = LAST_NAMES[last[u]]
        if fn.endswith(("а", "я")):
            ln = ln + "а"
        if u == 0:
            name = "Администратор"
        elif city_of[u] < 0:
            name = f"{fn} {ln} (КЦ)"
        else:
            name = f"{fn} {ln}"
        records.append(
            {
                "id": int(ids[u]),
                "name": name,
                "email": f"user{u}@{p.subdomain}.example",
                "lang": "ru",
                "rights": {
                    "is_admin": u == 0,
                    "is_free": False,
                    "is_active": True,
                    "group_id": int(group[u]) or None,
                    "role_id": None,
                },
                "_links": {"self": {"href": f"{p.host}/api/v4/users/{int(ids[u])}"}},
            }
        )
    return {
        "records": records,
        "ids": ids,
        "group": group,
        "speed": speed,
        "conv": conv,
        "mgr_start": mgr_start,
        "mgr_count": mgr_count,
        "slow": slow,
    }


def _make_pipelines(p: SynthParams) -> tuple[list[dict[str, Any]], np.ndarray, np.ndarray]:
    pipeline_ids = np.array([7_000_001, 7_000_002], dtype=np.int64)
    status_ids = np.zeros((2, 11), dtype=np.int64)
    colors = ("#c1c1c1", "#99ccff", "#ffcccc", "#ffff99", "#ff8f92", "#87f2c0", "#ffc8c8", "#ccc8f9", "#deff81")
    out = []
    sid = 61_000_001
    for k in range(2):
        statuses = []
        for s in range(11):
            if s == S_WON:
                status_id = 142
            elif s == S_LOST:
                status_id = 143
            else:
                status_id = sid
                sid += 1
            status_ids[k, s] = status_id
            name = STATUS_NAMES[s]
            if s == S_NO_SHOW and k == p.yo_pipeline:
                name = "Не пришёл"
            statuses.append(
                {
                    "id": status_id,
                    "name": name,
                    "sort": 10 * (s + 1) if s < S_WON else (10000 if s == S_WON else 11000),
                    "is_editable": s not in (S_UNSORTED, S_WON, S_LOST),
                    "pipeline_id": int(pipeline_ids[k]),
                    "color": "#c1e0ff"
                    if s == S_UNSORTED
                    else ("#CCFF66" if s == S_WON else "#D5D8DB")
                    if s >= S_WON
                    else colors[s - 1],
                    "type": 1 if s == S_UNSORTED else 0,
                    "account_id": p.account_id,
                    "_links": {
                        "self": {"href": f"{p.host}/api/v4/leads/pipelines/{int(pipeline_ids[k])}/statuses/{status_id}"}
                    },
                }
            )
        out.append(
            {
                "id": int(pipeline_ids[k]),
                "name": PIPELINE_NAMES[k],
                "sort": k + 1,
                "is_main": k == 0,
                "is_unsorted_on": True,
                "is_archive": False,
                "account_id": p.account_id,
                "_links": {"self": {"href": f"{p.host}/api/v4/leads/pipelines/{int(pipeline_ids[k])}"}},
                "_embedded": {"statuses": statuses},
            }
        )
    return out, status_ids, pipeline_ids


def _make_fields(p: SynthParams, city_names: list[str]) -> tuple[list[dict[str, Any]], list[int], list[int]]:
    city_enums = [1_100_001 + i for i in range(len(city_names))]
    pkg_enums = [1_200_001 + i for i in range(len(p.packages))]

    def field_rec(fid: int, name: str, sort: int, enums: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "id": fid,
            "name": name,
            "type": "select",
            "account_id": p.account_id,
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
            "_links": {"self": {"href": f"{p.host}/api/v4/leads/custom_fields/{fid}"}},
        }

    fields = [
        field_rec(
            900_001,
            "Город",
            510,
            [
                {"id": e, "value": c, "sort": 10 * (i + 1)}
                for i, (c, e) in enumerate(zip(city_names, city_enums, strict=True))
            ],
        ),
        field_rec(
            900_002,
            "Пакет",
            520,
            [
                {"id": e, "value": f"{n}", "sort": 10 * (i + 1)}
                for i, ((n, _), e) in enumerate(zip(p.packages, pkg_enums, strict=True))
            ],
        ),
    ]
    return fields, city_enums, pkg_enums


def _arrivals(
    rng: np.random.Generator, p: SynthParams, start: int, stop: int, end: int, deals_per_year: int,
    weights: np.ndarray, offsets: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """Creation times and cities of all deals in [start, stop): an inhomogeneous hourly grid."""
    h0 = start // HOUR
    hours = np.arange(h0, -(-stop // HOUR), dtype=np.int64) * HOUR
    season = _season(hours, p.month_factors) * (1 + p.growth_per_year) ** ((hours - end) / (365 * DAY))
    wd = np.asarray(p.weekday_factors) / np.mean(p.weekday_factors)
    hr = np.asarray(p.hour_factors) / np.mean(p.hour_factors)
    local = hours[:, None] + offsets[None, :]
    lam = weights[None, :] * wd[_local_weekday(local, np.zeros(1, dtype=np.int64))] * hr[(local % DAY) // HOUR]
    lam = lam * season[:, None]
    # the first and last hour only partly inside the window
    frac = np.ones(len(hours))
    frac[0] = (hours[0] + HOUR - start) / HOUR
    frac[-1] = min(frac[-1], (stop - hours[-1]) / HOUR)
    lam = lam * frac[:, None]
    expected = deals_per_year / (365 * 24) * lam.sum()
    n = int(round(expected))
    counts = rng.multinomial(n, (lam / lam.sum()).ravel())
    cells = np.repeat(np.arange(counts.size), counts)
    h_idx, city = np.divmod(cells, len(weights))
    lo = np.maximum(hours[h_idx], start)
    hi = np.minimum(hours[h_idx] + HOUR, stop)
    created = lo + (rng.random(n) * (hi - lo)).astype(np.int64)
    order = np.argsort(created, kind="stable")
    return created[order], city[order]


def generate_account(
    seed: int = 1,
    deals_per_year: int = 100_000,
    years: float = 1.0,
    end: datetime | None = None,
    horizon_days: int = 60,
    params: SynthParams | None = None,
) -> SynthAccount:
    """Simulate the whole account: deals created in [end − years, end + horizon_days) and their lives."""
    p = params or SynthParams()
    if end is None:
        end = datetime.now(UTC).replace(second=0, microsecond=0)
    end = _utc(end)
    if deals_per_year < 0 or years <= 0 or horizon_days < 0:
        raise ValueError("deals_per_year must be >= 0, years > 0 and horizon_days >= 0")
    end_ts = _ts(end)
    start_ts = end_ts - int(round(years * 365 * DAY))
    stop_ts = end_ts + horizon_days * DAY
    rngs = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(12)]

    cities = _load_cities(p)
    city_names = list(cities)
    pop = np.array([CITY_POPULATION.get(c, 0.5) for c in city_names])
    rank = np.argsort(-pop, kind="stable")
    city_names = [city_names[i] for i in rank]  # biggest first (users are laid out by size)
    pop = pop[rank]
    weights = pop**p.city_weight_power
    weights = weights / weights.sum()
    offsets = np.array(
        [int(ZoneInfo(cities[c]).utcoffset(end.replace(tzinfo=None)).total_seconds()) for c in city_names],
        dtype=np.int64,
    )
    users = _make_users(p, city_names, rngs[0])
    pipelines, status_ids, pipeline_ids = _make_pipelines(p)
    lead_fields, city_enum_ids, pkg_enum_ids = _make_fields(p, city_names)
    city_conv = np.clip(rngs[0].normal(1.0, p.city_conv_sd, len(city_names)), 0.85, 1.15)

    # ------------------------------------------------------------ arrivals and routing
    rng = rngs[1]
    created, city = _arrivals(rng, p, start_ts, stop_ts, end_ts, deals_per_year, weights, offsets)
    n = len(created)
    ar = np.arange(n)
    off = offsets[city]
    wk = (p.work_start_h, p.work_end_h)

    def work(x: np.ndarray) -> np.ndarray:
        return _to_work(x, off, *wk)

    has_city = rng.random(n) >= p.p_no_city
    eligible_quirk = created <= end_ts - 3 * DAY
    robot = has_city & (rng.random(n) < p.p_robot_booked)
    robot = _force_one(robot, has_city & eligible_quirk)
    mode = np.where(robot, 2, np.where(rng.random(n) < p.p_created_new, 1, 0))
    start_cc = ~has_city | ((rng.random(n) < p.cc_start_share) & ~robot)
    pipe0 = np.where(start_cc, CC, OFFICE)
    cc_pick = 1 + rng.integers(0, p.cc_team, n)
    city_pick = users["mgr_start"][city] + (rng.random(n) * users["mgr_count"][city]).astype(np.int64)
    resp0 = np.where(start_cc, cc_pick, city_pick)
    f0 = users["conv"][resp0] * city_conv[city]
    creator = np.where(mode == 1, resp0, -1)

    # ------------------------------------------------------------ first contact
    rng = rngs[2]
    speed = users["speed"][resp0]
    delay = np.clip(rng.lognormal(np.log(p.first_call_median_min * MINUTE * speed), 1.0), 60, 2 * DAY)
    t_first = work(work(created) + delay.astype(np.int64))
    reached = robot | (rng.random(n) < np.clip(p.p_phone * f0, 0, 0.98))
    unreached = ~reached
    junk = unreached & (rng.random(n) < p.p_junk)
    n_miss = np.where(reached & ~robot, rng.choice(4, n, p=[0.55, 0.25, 0.12, 0.08]), 0)
    n_miss = np.where(unreached, np.where(junk, rng.integers(1, 3, n), rng.integers(3, 6, n)), n_miss)
    gap = np.where(
        unreached & ~junk,
        _uniform(rng, 0.5 * DAY, 2.5 * DAY, n),
        np.where(junk, _uniform(rng, HOUR, 4 * HOUR, n), _uniform(rng, HOUR, DAY, n)),
    )
    # unanswered attempts: deal index repeated, attempt number j
    miss_deal = np.repeat(ar, n_miss)
    miss_j = np.arange(len(miss_deal)) - np.repeat(np.cumsum(n_miss) - n_miss, n_miss)
    miss_t = _to_work(t_first[miss_deal] + miss_j * gap[miss_deal], off[miss_deal], *wk)
    second_miss = np.full(n, -1, dtype=np.int64)
    sel = miss_j == 1
    second_miss[miss_deal[sel]] = miss_t[sel]
    last_miss = np.full(n, -1, dtype=np.int64)
    has_miss = n_miss > 0
    last_miss[has_miss] = miss_t[(np.cumsum(n_miss) - 1)[has_miss]]  # each deal's attempts are contiguous
    t_phone = np.where(
        reached & ~robot, work(t_first + n_miss * gap + np.where(n_miss > 0, _uniform(rng, 0, 1800, n), 0)), -1
    )
    t_na = np.where((second_miss >= 0) & ~junk, second_miss + _uniform(rng, 5 * MINUTE, 30 * MINUTE, n), -1)
    t_accept = np.where(mode == 0, np.maximum(created + 30, t_first - _uniform(rng, MINUTE, 5 * MINUTE, n)), -1)
    t_lost = np.full(n, -1, dtype=np.int64)
    t_lost = np.where(
        unreached,
        work(last_miss + np.where(junk, _uniform(rng, 10 * MINUTE, 6 * HOUR, n), _uniform(rng, HOUR, DAY, n))),
        t_lost,
    )
    phone_in = reached & ~robot & (rng.random(n) < 0.15)  # the client called back

    # ------------------------------------------------------------ booking
    rng = rngs[3]
    booked = robot | (reached & (rng.random(n) < np.clip(p.p_book * f0, 0, 0.98)))
    not_booked = reached & ~booked
    same_call = rng.random(n) < 0.5
    t_book = np.where(
        robot,
        created,
        np.where(
            booked,
            np.where(
                same_call,
                t_phone + _uniform(rng, 2 * MINUTE, 15 * MINUTE, n),
                work(t_phone + _uniform(rng, 2 * HOUR, 4 * DAY, n)),
            ),
            -1,
        ),
    )
    t_book_slot = np.where(robot, -1, t_book)  # a robot deal is created into "booked": no change event
    t_nb = np.where(not_booked, work(t_phone + _uniform(rng, 5 * MINUTE, 3 * DAY, n)), -1)
    lost_nb = not_booked & (rng.random(n) < p.p_lost_not_booked)
    t_lost = np.where(lost_nb, work(t_nb + _uniform(rng, DAY, 21 * DAY, n)), t_lost)
    transfer = booked & start_cc & has_city & (rng.random(n) >= p.cc_keep_booked_share)
    t_transfer = np.where(transfer, work(t_book + _uniform(rng, MINUTE, 3 * HOUR, n)), -1)
    resp1 = np.where(transfer, city_pick, resp0)
    pipe_cur = np.where(transfer, OFFICE, pipe0)
    f1 = users["conv"][resp1] * city_conv[city]

    # ------------------------------------------------------------ consultations
    rng = rngs[4]
    base = np.maximum(t_book, t_transfer)
    t_cons1 = np.where(booked, _schedule_consultation(rng, base, off, 1, 7), -1)
    p_att = np.clip(p.p_attend * f1, 0, 0.98)
    att1 = booked & (rng.random(n) < p_att)
    ns1 = booked & ~att1
    t_out1 = np.where(
        att1,
        t_cons1 + _uniform(rng, 30 * MINUTE, 90 * MINUTE, n),
        np.where(ns1, t_cons1 + _uniform(rng, 30 * MINUTE, 4 * HOUR, n), -1),
    )
    rebook = ns1 & (rng.random(n) < p.p_rebook)
    t_rebook = np.where(rebook, work(t_out1 + _uniform(rng, 2 * HOUR, 5 * DAY, n)), -1)
    t_cons2 = np.where(rebook, _schedule_consultation(rng, t_rebook, off, 1, 7), -1)
    att2 = rebook & (rng.random(n) < p_att)
    ns2 = rebook & ~att2
    t_out2 = np.where(
        att2,
        t_cons2 + _uniform(rng, 30 * MINUTE, 90 * MINUTE, n),
        np.where(ns2, t_cons2 + _uniform(rng, 30 * MINUTE, 4 * HOUR, n), -1),
    )
    attended = att1 | att2
    t_att = np.where(att1, t_out1, np.where(att2, t_out2, -1))
    final_ns = (ns1 & ~rebook) | ns2
    t_last_ns = np.where(ns2, t_out2, t_out1)
    lost_ns = final_ns & (rng.random(n) < p.p_lost_no_show)
    t_lost = np.where(lost_ns, work(t_last_ns + _uniform(rng, DAY, 14 * DAY, n)), t_lost)

    # ------------------------------------------------------------ contracts
    rng = rngs[5]
    contract = attended & (rng.random(n) < np.clip(p.p_contract * f1, 0, 0.98))
    same_day = rng.random(n) < 0.4
    t_contract = np.where(
        contract,
        np.where(
            same_day, t_att + _uniform(rng, 5 * MINUTE, 2 * HOUR, n), work(t_att + _uniform(rng, DAY, 14 * DAY, n))
        ),
        -1,
    )
    lost_nc = attended & ~contract & (rng.random(n) < p.p_lost_no_contract)
    t_lost = np.where(lost_nc, work(t_att + _uniform(rng, 2 * DAY, 30 * DAY, n)), t_lost)
    t_won = np.where(contract, work(t_contract + _uniform(rng, HOUR, 10 * DAY, n)), -1)
    refund = contract & (rng.random(n) < p.p_refund)
    refund = _force_one(refund, contract & (t_won + 20 * DAY <= end_ts))
    t_refund = np.where(refund, work(t_won + _uniform(rng, 20 * DAY, 150 * DAY, n)), -1)
    t_refund = np.where(
        refund & (t_won + 20 * DAY <= end_ts), np.minimum(t_refund, np.maximum(end_ts - HOUR, t_won + DAY)), t_refund
    )
    package = rng.choice(len(p.packages), n, p=np.asarray(p.package_weights) / sum(p.package_weights))
    disc = rng.choice([0.0, 0.05, 0.1], n, p=[0.75, 0.15, 0.1])
    list_price = np.array([pr for _, pr in p.packages], dtype=float)[package]
    price = (np.round(list_price * (1 - disc) / 500) * 500).astype(np.int64)

    # ------------------------------------------------------------ status slots → changes
    slots_t = np.stack(
        [
            t_accept,
            t_na,
            t_phone,
            t_nb,
            t_book_slot,
            t_transfer,
            t_out1,
            t_rebook,
            t_out2,
            t_contract,
            t_won,
            t_lost,
            t_refund,
        ],
        axis=1,
    ).astype(np.int64)
    s_att = np.where(att1, S_ATTENDED, S_NO_SHOW)
    s_att2 = np.where(att2, S_ATTENDED, S_NO_SHOW)
    slot_status = np.stack(
        [
            np.full(n, S_NEW), np.full(n, S_NO_ANSWER), np.full(n, S_PHONE), np.full(n, S_NOT_BOOKED),
            np.full(n, S_BOOKED), np.full(n, S_BOOKED), s_att, np.full(n, S_BOOKED), s_att2,
            np.full(n, S_CONTRACT), np.full(n, S_WON), np.full(n, S_LOST), np.full(n, S_LOST),
        ],
        axis=1,
    )  # fmt: skip
    slot_pipe = np.stack([pipe0] * 5 + [np.full(n, OFFICE)] + [pipe_cur] * 7, axis=1)
    robot_transfer = rngs[6].random(n) < 0.5
    slot_user = np.stack([resp0] * 5 + [np.where(robot_transfer, -1, resp0)] + [resp1] * 7, axis=1)
    # strictly increasing times per deal (a minute apart at least)
    prev = created.copy()
    for k in range(slots_t.shape[1]):
        col = slots_t[:, k]
        valid = col >= 0
        col = np.where(valid, np.maximum(col, prev + MINUTE), -1)
        slots_t[:, k] = col
        prev = np.where(valid, col, prev)
    t_transfer = np.where(slots_t[:, 5] >= 0, slots_t[:, 5], -1)
    t_contract = np.where(slots_t[:, 9] >= 0, slots_t[:, 9], -1)

    # ------------------------------------------------------------ deleted and restored deals
    rng = rngs[6]
    deleted = ~robot & (rng.random(n) < p.p_deleted)
    deleted = _force_one(deleted, ~robot & eligible_quirk)
    t_delete = np.where(deleted, created + _uniform(rng, 10 * MINUTE, 3 * DAY, n), INF)
    t_restore = np.full(n, INF, dtype=np.int64)
    after_del = slots_t >= t_delete[:, None]
    slots_t = np.where(after_del, -1, slots_t)
    # restored: a deal with a quiet gap of >= 2 days between two status changes
    times_sorted = np.sort(np.where(slots_t >= 0, slots_t, INF), axis=1)
    prev_t = np.concatenate([created[:, None], times_sorted[:, :-1]], axis=1)
    gaps = np.where(times_sorted < INF, times_sorted - prev_t, 0)
    gap_k = np.argmax(gaps, axis=1)
    best_gap = gaps[ar, gap_k]
    can_restore = ~deleted & ~robot & (best_gap >= 2 * DAY) & eligible_quirk
    can_restore &= times_sorted[ar, gap_k] <= end_ts
    restored = can_restore & (rng.random(n) < p.p_restored)
    restored = _force_one(restored, can_restore)
    gap_start = prev_t[ar, gap_k]
    del_r = gap_start + _uniform(rng, HOUR, 12 * HOUR, n)
    res_r = del_r + _uniform(rng, 2 * HOUR, 20 * HOUR, n)
    t_delete = np.where(restored, del_r, t_delete)
    t_restore = np.where(restored, res_r, t_restore)
    t_transfer = np.where(t_transfer >= t_delete, -1, t_transfer)
    t_transfer = np.where(restored & (slots_t[:, 5] >= 0), slots_t[:, 5], t_transfer)
    t_contract = np.where((t_contract >= t_delete) & ~restored, -1, t_contract)

    valid = slots_t >= 0
    ch_deal, ch_slot = np.nonzero(valid)
    ch_time = slots_t[ch_deal, ch_slot]
    ch_status = status_ids[slot_pipe[ch_deal, ch_slot], slot_status[ch_deal, ch_slot]]
    ch_pipe = pipeline_ids[slot_pipe[ch_deal, ch_slot]]
    ch_user = slot_user[ch_deal, ch_slot]
    init_slot = np.where(mode == 0, S_UNSORTED, np.where(mode == 1, S_NEW, S_BOOKED))
    init_pipe_k = np.where(robot, OFFICE, pipe0)
    init_status = status_ids[init_pipe_k, init_slot]
    init_pipe = pipeline_ids[init_pipe_k]

    # ------------------------------------------------------------ contacts (returning clients)
    rng = rngs[7]
    last_valid = np.where(valid.any(axis=1), slots_t.max(axis=1), -1)
    final_slot = np.where(valid.any(axis=1), np.argmax(np.where(valid, slots_t, -1), axis=1), -1)
    closed_final = np.where(np.isin(final_slot, (10, 11, 12)), last_valid, INF)
    second = has_city & ~deleted & ~restored & (rng.random(n) < p.p_returning)
    first_of = np.full(n, -1, dtype=np.int64)
    cand = has_city & ~deleted & ~restored & (closed_final < INF)
    used = np.zeros(n, dtype=bool)
    by_city: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    for c in range(len(city_names)):
        idx = np.nonzero(cand & (city == c))[0]
        o = np.argsort(closed_final[idx], kind="stable")
        by_city[c] = (closed_final[idx][o], idx[o])

    def link(i: int) -> bool:
        closes, idxs = by_city[int(city[i])]
        k = int(np.searchsorted(closes, created[i] - DAY))
        for _ in range(4 if k else 0):
            j = int(idxs[rng.integers(0, k)])
            if not used[j] and not used[i]:
                first_of[i] = j
                used[j] = used[i] = True
                return True
        return False

    linked = [link(i) for i in np.nonzero(second)[0].tolist()]
    if not any(linked):  # the quirk must show: link the first deal that can be linked
        for i in np.nonzero(eligible_quirk & has_city & ~deleted & ~restored)[0].tolist():
            if link(i):
                break
    # contact of each deal: a new one, or the first deal's contact
    is_new_contact = first_of < 0
    contact_rank = np.cumsum(is_new_contact) - 1
    contact_idx = np.where(is_new_contact, contact_rank, 0)
    for i in np.nonzero(~is_new_contact)[0].tolist():
        contact_idx[i] = contact_idx[first_of[i]]
    n_contacts = int(is_new_contact.sum())
    c_created = created[is_new_contact]
    c_link2 = np.full(n_contacts, INF, dtype=np.int64)
    c_link2[contact_idx[~is_new_contact]] = created[~is_new_contact]
    contact_ids = 50_000_001 + np.arange(n_contacts, dtype=np.int64)
    parent = rng.random(n_contacts) < 0.3
    fn_i = rng.integers(0, len(FIRST_NAMES), n_contacts)
    pn_i = rng.integers(0, len(PARENT_NAMES), n_contacts)
    ln_i = rng.integers(0, len(LAST_NAMES), n_contacts)
    digits = rng.integers(0, 10**9, n_contacts)
    has2 = rng.random(n_contacts) < 0.1
    digits2 = rng.integers(0, 10**7, n_contacts)
    firsts = [
        PARENT_NAMES[b] if a else FIRST_NAMES[c]
        for a, b, c in zip(parent.tolist(), pn_i.tolist(), fn_i.tolist(), strict=True)
    ]
    lasts = [LAST_NAMES[b] + ("а" if a else "") for a, b in zip(parent.tolist(), ln_i.tolist(), strict=True)]
    phones = [f"+79{d:09d}" for d in digits.tolist()]
    phones2 = [f"+7495{d:07d}" if h else "" for d, h in zip(digits2.tolist(), has2.tolist(), strict=True)]
    contacts = {
        "id": contact_ids,
        "created": c_created,
        "link2": c_link2,
        "resp": resp0[is_new_contact],
        "first": firsts,
        "last": lasts,
        "phone": phones,
        "phone2": phones2,
    }

    # ------------------------------------------------------------ touches (calls and SMS)
    rng = rngs[8]
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []

    def add(
        deal: np.ndarray, t: np.ndarray, kind: np.ndarray | int, answered: np.ndarray | bool, text: np.ndarray | int
    ) -> None:
        m = len(deal)
        parts.append(
            (
                deal.astype(np.int64),
                t.astype(np.int64),
                np.broadcast_to(np.asarray(kind, dtype=np.int64), (m,)).copy(),
                np.broadcast_to(np.asarray(answered, dtype=bool), (m,)).copy(),
                np.broadcast_to(np.asarray(text, dtype=np.int64), (m,)).copy(),
            )
        )

    def spread(mask: np.ndarray, counts: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        counts = np.where(mask, counts, 0)
        d = np.repeat(ar, counts)
        t = lo[d] + (rng.random(len(d)) * np.maximum(hi[d] - lo[d], 60)).astype(np.int64)
        return d, _to_work(t, off[d], *wk)

    # unanswered first-contact attempts, then the answered call that got the number
    add(miss_deal, miss_t, 1, False, -1)
    d = np.nonzero(reached & ~robot & (t_phone >= 0))[0]
    add(d, t_phone[d], np.where(phone_in[d], 0, 1), True, -1)
    # welcome SMS from the robot, "could not reach you" SMS
    d = np.nonzero(rng.random(n) < p.p_welcome_sms)[0]
    add(d, created[d] + _uniform(rng, 30, 180, len(d)), 3, False, 0)
    d = np.nonzero(unreached & ~junk & (rng.random(n) < 0.8) & (second_miss >= 0))[0]
    add(d, second_miss[d] + _uniform(rng, 60, 600, len(d)), 3, False, 1)
    # talks between getting the number and the booking decision
    decision = np.where(booked, t_book, np.where(not_booked, t_nb, t_phone))
    dd, tt = spread(reached & ~robot, rng.poisson(1.2, n), t_phone, np.maximum(decision, t_phone + 2 * DAY))
    add(dd, tt, np.where(rng.random(len(dd)) < 0.75, 1, 0), rng.random(len(dd)) < 0.8, -1)
    # booking confirmation, reminder SMS the day before, reminder call on the day
    for t_b, t_c in ((t_book, t_cons1), (t_rebook, t_cons2)):
        m = t_c >= 0
        d = np.nonzero(m)[0]
        add(d, t_b[d] + _uniform(rng, 2 * MINUTE, 10 * MINUTE, len(d)), 3, False, 2)
        rem = t_c - DAY + _uniform(rng, -3 * HOUR, 3 * HOUR, n)
        d = np.nonzero(m & (rem > t_b + HOUR))[0]
        add(d, rem[d], 3, False, 3)
        d2 = d[rng.random(len(d)) < 0.3]
        add(d2, rem[d2] + _uniform(rng, 2 * MINUTE, 3 * HOUR, len(d2)), 2, False, 4)
        d = np.nonzero(m & (rng.random(n) < 0.5))[0]
        add(d, t_c[d] - _uniform(rng, HOUR, 3 * HOUR, len(d)), 1, rng.random(len(d)) < 0.8, -1)
    # the office manager introduces themself after a transfer
    d = np.nonzero(t_transfer >= 0)[0]
    add(
        d,
        _to_work(t_transfer[d] + _uniform(rng, 10 * MINUTE, DAY, len(d)), off[d], *wk),
        1,
        rng.random(len(d)) < 0.7,
        -1,
    )
    # after a no-show: calls to re-book or close
    dd, tt = spread(ns1, rng.integers(1, 4, n), t_out1, t_out1 + 3 * DAY)
    add(dd, tt, 1, rng.random(len(dd)) < 0.55, -1)
    # after the consultation: follow-up calls
    nc_end = np.where(contract, t_contract, np.where(t_lost >= 0, t_lost, t_att + 14 * DAY))
    dd, tt = spread(attended, rng.integers(1, 4, n), t_att, np.maximum(nc_end, t_att + HOUR))
    add(dd, tt, np.where(rng.random(len(dd)) < 0.7, 1, 0), rng.random(len(dd)) < 0.85, -1)
    # inbound calls and SMS at any time of a reached deal's life
    life_end = np.where(t_lost >= 0, t_lost, np.where(t_won >= 0, t_won, created + 20 * DAY))
    life_end = np.maximum(life_end, created + HOUR)
    dd, tt = spread(reached, rng.poisson(0.6, n), created, life_end)
    add(dd, tt, 0, rng.random(len(dd)) < 0.8, -1)
    dd, tt = spread(reached, rng.poisson(0.25, n), created, life_end)
    add(dd, tt, 2, False, 4)

    t_deal = np.concatenate([x[0] for x in parts])
    t_time = np.concatenate([x[1] for x in parts])
    t_kind = np.concatenate([x[2] for x in parts])
    t_ans = np.concatenate([x[3] for x in parts])
    t_text = np.concatenate([x[4] for x in parts])
    keep = ~((t_time >= t_delete[t_deal]) & (t_time < t_restore[t_deal]))
    keep &= t_time >= created[t_deal]
    order = np.lexsort((t_deal, t_time))
    order = order[keep[order]]
    t_deal, t_time, t_kind, t_ans, t_text = (a[order] for a in (t_deal, t_time, t_kind, t_ans, t_text))
    m = len(t_deal)
    is_call = t_kind < 2
    t_ans &= is_call
    dur = np.where(t_ans, np.clip(rng.lognormal(np.log(p.answered_median_s), 0.7, m), 60, 900), 0).astype(np.int64)
    call_status = np.where(
        t_ans, 4, np.where(t_kind == 1, rng.choice([6, 7, 3], m, p=[0.6, 0.25, 0.15]), np.where(t_kind == 0, 2, 0))
    )
    on_contact = is_call & (rng.random(m) < p.p_call_on_contact)
    dur_str = is_call & (rng.random(m) < p.p_duration_str)
    dur_str = _force_one(dur_str, is_call & (t_time <= end_ts))
    on_contact = _force_one(on_contact, is_call & (t_time <= end_ts))
    note_user = np.where(t_time >= np.where(t_transfer >= 0, t_transfer, INF)[t_deal], resp1[t_deal], resp0[t_deal])
    note_by = np.where(t_text >= 0, -1, note_user)  # SMS go out through the SMS robot; replies have no user
    deal_ids = 30_000_001 + ar.astype(np.int64)
    note_contact = contact_idx[t_deal]
    note_entity = np.where(on_contact, contact_ids[note_contact], deal_ids[t_deal])
    note_ids = 60_000_001 + np.arange(m, dtype=np.int64)
    texts = _sms_texts(t_text, t_time, t_deal, t_cons1, t_cons2, t_rebook, off)
    notes = {
        "id": note_ids,
        "created": t_time,
        "kind": t_kind,
        "on_contact": on_contact,
        "entity": note_entity,
        "deal": t_deal,
        "user": note_user,
        "by": note_by,
        "duration": dur,
        "dur_str": dur_str,
        "call_status": call_status,
        "contact_idx": note_contact,
        "phone": phones,
        "text": texts,
    }

    # ------------------------------------------------------------ tasks
    rng = rngs[9]
    slot_after = {k: slots_t[:, k] for k in range(slots_t.shape[1])}
    t_lost_f = slot_after[11]
    t_phone_f, t_book_f, t_nb_f = slot_after[2], np.where(robot, created, slot_after[4]), slot_after[3]
    t_out1_f, t_reb_f, t_won_f = slot_after[6], slot_after[7], slot_after[10]
    t_att_f = np.where(att1, slot_after[6], np.where(att2, slot_after[8], -1))
    t_con_f = slot_after[9]

    def nz(x: np.ndarray) -> np.ndarray:
        return np.where(x >= 0, x, INF)

    specs = [
        # kind, mask, created, deadline base, completion
        (0, np.ones(n, bool), created + _uniform(rng, 5, 90, n), created + 30 * MINUTE,
         np.where(robot, created + _uniform(rng, HOUR, DAY, n), t_first)),
        (1, (n_miss > 0) & ~junk, t_first + _uniform(rng, MINUTE, 10 * MINUTE, n), t_first + DAY,
         np.where(reached, nz(t_phone_f), nz(t_lost_f))),
        (2, t_phone_f >= 0, t_phone_f + _uniform(rng, MINUTE, 5 * MINUTE, n), t_phone_f + _uniform(rng, HOUR, 2 * DAY, n),
         np.where(booked, nz(t_book_f), nz(t_nb_f))),
        (3, t_cons1 >= 0, np.maximum(t_book_f, t_transfer) + _uniform(rng, MINUTE, 5 * MINUTE, n), t_cons1 + HOUR,
         nz(t_out1_f)),
        (4, ns1 & (t_out1_f >= 0), t_out1_f + _uniform(rng, MINUTE, 10 * MINUTE, n), t_out1_f + DAY,
         np.where(rebook, nz(t_reb_f), nz(t_lost_f))),
        (5, t_att_f >= 0, t_att_f + _uniform(rng, MINUTE, 10 * MINUTE, n), t_att_f + 3 * DAY,
         np.where(contract, nz(t_con_f), nz(t_lost_f))),
        (6, t_con_f >= 0, t_con_f + _uniform(rng, MINUTE, 10 * MINUTE, n), t_con_f + 5 * DAY, nz(t_won_f)),
    ]  # fmt: skip
    n_task = sum(s[1].astype(np.int64) for s in specs)
    filler = n_task < 2
    specs.append(
        (
            7,
            filler,
            created + _uniform(rng, HOUR, 2 * DAY, n),
            created + 2 * DAY,
            created + _uniform(rng, 2 * HOUR, 3 * DAY, n),
        )
    )
    too_many = (n_task > 6) & (n_miss > 0)
    specs[1] = (1, specs[1][1] & ~too_many, *specs[1][2:])
    tk_parts = []
    for kind, mask, tc, tdl, tdone in specs:
        d = np.nonzero(mask)[0]
        tc_d = tc[d]
        dl = np.maximum(tdl[d], tc_d + 15 * MINUTE)
        dl = _to_work(dl, off[d], *wk)
        dl = (dl // 300) * 300
        dl = np.where(dl < tc_d, _to_work(tc_d + 30 * MINUTE, off[d], *wk) // 300 * 300 + 300, dl)
        done = tdone[d]
        done = np.where(
            done < INF, np.maximum(done + _uniform(rng, -20 * MINUTE, 20 * MINUTE, len(d)), tc_d + MINUTE), INF
        )
        done = np.where(rng.random(len(d)) < p.p_task_open, INF, done)
        ok = tc_d >= created[d]  # anchors of steps the deal never took (or lost to the trash) are -1
        tk_parts.append((d[ok], tc_d[ok], dl[ok], done[ok], np.full(int(ok.sum()), kind)))
    tk_deal = np.concatenate([x[0] for x in tk_parts])
    tk_created = np.concatenate([x[1] for x in tk_parts]).astype(np.int64)
    tk_dl = np.concatenate([x[2] for x in tk_parts]).astype(np.int64)
    tk_done = np.concatenate([x[3] for x in tk_parts]).astype(np.int64)
    tk_kind = np.concatenate([x[4] for x in tk_parts]).astype(np.int64)
    in_trash = (tk_created >= t_delete[tk_deal]) & (tk_created < t_restore[tk_deal])
    tk_done = np.where((tk_done >= t_delete[tk_deal]) & (tk_done < t_restore[tk_deal]), INF, tk_done)
    order = np.lexsort((tk_kind, tk_deal, tk_created))
    order = order[~in_trash[order]]
    tk_deal, tk_created, tk_dl, tk_done, tk_kind = (a[order] for a in (tk_deal, tk_created, tk_dl, tk_done, tk_kind))
    k_tasks = len(tk_deal)
    tk_user = np.where(
        tk_created >= np.where(t_transfer >= 0, t_transfer, INF)[tk_deal], resp1[tk_deal], resp0[tk_deal]
    )
    tk_result = np.where(rng.random(k_tasks) < 0.7, rng.integers(0, len(TASK_RESULTS), k_tasks), -1)
    tasks = {
        "id": 80_000_001 + np.arange(k_tasks, dtype=np.int64),
        "deal": tk_deal,
        "lead_id": deal_ids[tk_deal],
        "created": tk_created,
        "deadline": tk_dl,
        "completed": tk_done,
        "kind": tk_kind,
        "user": tk_user,
        "result": tk_result,
    }

    # ------------------------------------------------------------ events
    rng = rngs[10]
    ev: list[tuple[np.ndarray, ...]] = []

    def add_ev(typ: int, etype: int, eid: np.ndarray, by: np.ndarray, t: np.ndarray,
               a0: Any = 0, a1: Any = 0, b0: Any = 0, b1: Any = 0) -> None:  # fmt: skip
        m_ = len(eid)

        def col(x: Any) -> np.ndarray:
            return np.broadcast_to(np.asarray(x, dtype=np.int64), (m_,)).copy()

        ev.append((col(typ), col(etype), col(eid), col(by), col(t), col(a0), col(a1), col(b0), col(b1)))

    add_ev(0, 0, deal_ids, creator, created, init_status, init_pipe)
    prev_status = np.concatenate([[0], ch_status[:-1]])
    prev_pipe = np.concatenate([[0], ch_pipe[:-1]])
    first_change = np.concatenate([[True], ch_deal[1:] != ch_deal[:-1]])
    prev_status = np.where(first_change, init_status[ch_deal], prev_status)
    prev_pipe = np.where(first_change, init_pipe[ch_deal], prev_pipe)
    add_ev(1, 0, deal_ids[ch_deal], ch_user, ch_time, ch_status, ch_pipe, prev_status, prev_pipe)
    d = np.nonzero(t_transfer >= 0)[0]
    add_ev(2, 0, deal_ids[d], np.where(robot_transfer[d], -1, resp0[d]), t_transfer[d], resp1[d], 0, resp0[d], 0)
    d = np.nonzero(t_delete < INF)[0]
    add_ev(3, 0, deal_ids[d], np.zeros(len(d)), t_delete[d])
    d = np.nonzero(t_restore < INF)[0]
    add_ev(4, 0, deal_ids[d], np.zeros(len(d)), t_restore[d])
    add_ev(5, 2, tasks["id"], tk_user, tk_created)
    d = np.nonzero(tk_done < INF)[0]
    add_ev(6, 2, tasks["id"][d], tk_user[d], tk_done[d])
    note_ev = np.array([7, 8, 9, 10])[t_kind]
    ev.append(
        tuple(
            np.asarray(x, dtype=np.int64)
            for x in (
                note_ev,
                np.where(on_contact, 1, 0),
                note_entity,
                note_by,
                t_time,
                note_ids,
                0 * note_ids,
                0 * note_ids,
                0 * note_ids,
            )
        )
    )
    n_known = sum(len(x[0]) for x in ev)
    n_unknown = max(3, int(round(p.unknown_event_share * n_known)))
    ghost_ids = 30_000_001 - rng.integers(1, 100_000, n_unknown)
    ghost_t = rng.integers(start_ts, end_ts, n_unknown)
    ghost_k = rng.integers(0, 2, n_unknown)
    add_ev(
        1, 0, ghost_ids, np.full(n_unknown, 1), ghost_t,
        status_ids[ghost_k, S_NO_ANSWER], pipeline_ids[ghost_k], status_ids[ghost_k, S_NEW], pipeline_ids[ghost_k],
    )  # fmt: skip
    cols = [np.concatenate([x[i] for x in ev]) for i in range(9)]
    order = np.argsort(cols[4], kind="stable")
    cols = [c[order] for c in cols]
    e_created = cols[4]
    events = dict(zip(("type", "etype", "eid", "by", "created", "a0", "a1", "b0", "b1"), cols, strict=True))

    # ------------------------------------------------------------ assemble
    ch_start = np.searchsorted(ch_deal, ar).astype(np.int64)
    deals = {
        "id": deal_ids,
        "created": created,
        "init_status": init_status,
        "init_pipe": init_pipe,
        "creator": creator,
        "resp0": resp0,
        "resp1": resp1,
        "t_transfer": np.where(t_transfer >= 0, t_transfer, INF),
        "t_delete": t_delete,
        "t_restore": t_restore,
        "t_contract": np.where(t_contract >= 0, t_contract, INF),
        "price": price,
        "package": package,
        "city": city,
        "has_city": has_city,
        "contact_idx": contact_idx,
        "contact_id": contact_ids[contact_idx],
        "name_kind": mode,
    }
    changes = {
        "deal": ch_deal,
        "time": ch_time,
        "status": ch_status,
        "pipe": ch_pipe,
        "user": ch_user,
        "start": ch_start,
    }
    meta = {
        "seed": seed,
        "deals_per_year": deals_per_year,
        "years": years,
        "end": _iso(end_ts),
        "horizon_days": horizon_days,
        "slow_manager_id": int(users["ids"][users["slow"]]),
    }
    counts = {
        "deals": n,
        "changes": len(ch_deal),
        "notes": m,
        "tasks": k_tasks,
        "events": len(e_created),
        "unknown_lead_events": n_unknown,
        "deleted": int((deleted & (t_restore == INF)).sum()),
        "restored": int(restored.sum()),
        "robot_booked": int(robot.sum()),
        "no_city": int((~has_city).sum()),
        "returning": int((~is_new_contact).sum()),
        "refunded": int(refund.sum()),
        "transferred": int((t_transfer >= 0).sum()),
    }
    return SynthAccount(
        start=datetime.fromtimestamp(start_ts, UTC),
        end=end,
        horizon_days=horizon_days,
        seed=seed,
        params=p,
        meta=meta,
        users=users["records"],
        pipelines=pipelines,
        lead_fields=lead_fields,
        status_ids=status_ids,
        pipeline_ids=pipeline_ids,
        user_ids=users["ids"],
        user_groups=users["group"],
        city_names=city_names,
        city_enum_ids=city_enum_ids,
        city_field_id=900_001,
        package_field_id=900_002,
        package_enum_ids=pkg_enum_ids,
        deals=deals,
        changes=changes,
        contacts=contacts,
        notes=notes,
        tasks=tasks,
        events=events,
        counts=counts,
    )


SMS_TEMPLATES = (
    "Здравствуйте! Спасибо за заявку в «Призыва.нет». Мы перезвоним вам в ближайшее время.",
    "Не смогли до вас дозвониться. Перезвоните нам, пожалуйста: 8 800 000-00-00.",
    "Вы записаны на бесплатную консультацию {when}. Ждём вас!",
    "Напоминаем: консультация завтра, {when}. Если планы изменились, позвоните нам.",
    "Да, буду",
)
SMS_REPLIES = ("Да, буду", "Спасибо, подтверждаю", "Перезвоните после 18:00", "Можно перенести?", "Ок")


def _sms_texts(
    text: np.ndarray, t: np.ndarray, deal: np.ndarray, cons1: np.ndarray, cons2: np.ndarray,
    rebook: np.ndarray, off: np.ndarray,
) -> list[str]:  # fmt: skip
    """Message texts (they stay in the raw export only: they are personal data)."""
    out = [""] * len(text)
    text_l, t_l, deal_l = text.tolist(), t.tolist(), deal.tolist()
    for i, k in enumerate(text_l):
        if k < 0:
            continue
        if k in (2, 3):
            di = deal_l[i]
            c2 = int(cons2[di])
            cons = c2 if c2 >= 0 and t_l[i] >= int(rebook[di]) >= 0 else int(cons1[di])
            local = datetime.fromtimestamp(cons + int(off[di]), UTC)
            out[i] = SMS_TEMPLATES[k].format(when=local.strftime("%d.%m в %H:%M"))
        elif k == 4:
            out[i] = SMS_REPLIES[(t_l[i] // 7) % len(SMS_REPLIES)]
        else:
            out[i] = SMS_TEMPLATES[k]
    return out


# ---------------------------------------------------------------- raw export
RAW_FILES = COLLECTIONS


def _fast_encoder() -> Any:
    """Compact UTF-8 JSON of one record, as ``json.dumps(..., ensure_ascii=False, separators=(",", ":"))``.

    Calls the C encoder directly: ``JSONEncoder.encode`` builds a new one per call, which is half
    the cost of writing millions of small records.
    """
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:  # pure-Python json: the slow, equivalent path
        return json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), check_circular=False).encode

    def default(obj: Any) -> Any:
        raise TypeError(f"not JSON serialisable: {type(obj).__name__}")

    chunks = make(None, default, json.encoder.encode_basestring, None, ":", ",", False, False, True)
    return lambda obj: "".join(chunks(obj, 0))


class _ExportWriter:
    """Writes a raw export into a temp folder beside ``out_dir``; :meth:`commit` renames it into place."""

    def __init__(self, out_dir: Path) -> None:
        self.out_dir = Path(out_dir)
        if self.out_dir.exists() and not (
            self.out_dir.is_dir() and (not any(self.out_dir.iterdir()) or (self.out_dir / "export.json").is_file())
        ):  # replacing it would destroy something that is not a raw export
            raise FileExistsError(
                f"{self.out_dir} exists and is not a raw export folder (no export.json); not overwriting it"
            )
        self.out_dir.parent.mkdir(parents=True, exist_ok=True)
        self.tmp = Path(tempfile.mkdtemp(prefix=f".{self.out_dir.name}.tmp-", dir=self.out_dir.parent))
        os.chmod(self.tmp, 0o755)
        self.encode = _fast_encoder()
        self.files = {name: open(self.tmp / f"{name}.jsonl", "w", encoding="utf-8") for name in RAW_FILES}  # noqa: SIM115
        self.summary: dict[str, dict[str, Any]] = {name: {"records": 0, "cursor": None} for name in RAW_FILES}

    def add(self, name: str, records: list[dict[str, Any]]) -> None:
        if not records:
            return
        enc = self.encode
        self.files[name].write("\n".join([enc(r) for r in records]) + "\n")
        info = self.summary[name]
        info["records"] += len(records)
        key = "created_at" if name == "events" else "updated_at"
        stamps = [v for r in records if isinstance(v := r.get(key), int)]
        if stamps:
            info["cursor"] = max(stamps) if info["cursor"] is None else max(info["cursor"], *stamps)

    def add_lines(self, name: str, lines: list[str], cursor: int | None) -> None:
        """Records already encoded (one JSON object per string) with their cursor."""
        if not lines:
            return
        self.files[name].write("\n".join(lines) + "\n")
        info = self.summary[name]
        info["records"] += len(lines)
        if cursor is not None:
            info["cursor"] = cursor if info["cursor"] is None else max(info["cursor"], cursor)

    def commit(self, account: dict[str, Any], source: str, pulled_at: datetime, extra: dict | None) -> None:
        for fh in self.files.values():
            fh.close()
        (self.tmp / "account.json").write_text(self.encode(account) + "\n", encoding="utf-8")
        meta = {"source": source, "pulled_at": _iso(_ts(pulled_at)), "collections": self.summary, **(extra or {})}
        (self.tmp / "export.json").write_text(json.dumps(meta, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        if self.out_dir.exists():
            old = self.out_dir.parent / f".{self.out_dir.name}.old-{os.getpid()}"
            os.replace(self.out_dir, old)
            os.replace(self.tmp, self.out_dir)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(self.tmp, self.out_dir)

    def abort(self) -> None:
        for fh in self.files.values():
            fh.close()
        shutil.rmtree(self.tmp, ignore_errors=True)


def write_raw_export(
    out_dir: Path, view: dict[str, Any], *, source: str = "emulator", pulled_at: datetime, extra: dict | None = None
) -> None:
    """Write ``view`` (an :meth:`SynthAccount.as_of` result) as a raw export folder (DATA.md §1).

    Written into a sibling temp folder and renamed into place, so a crash leaves nothing half-written;
    an existing ``out_dir`` is replaced only once the new one is complete.  ``leads.jsonl`` holds the
    normal leads, then the deleted ones as ``with=only_deleted`` returns them.
    """
    writer = _ExportWriter(out_dir)
    try:
        with _no_gc():
            for name in RAW_FILES:
                writer.add(name, view.get(name) or [])
                if name == "leads":
                    writer.add(name, view.get("deleted_leads") or [])
        writer.commit(view["account"], source, pulled_at, extra)
    except BaseException:
        writer.abort()
        raise


# ---------------------------------------------------------------- CLI
def _parse_end(value: str) -> datetime:
    try:
        return datetime.strptime(value, "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"--end must be a date YYYY-MM-DD, got {value!r}") from exc


def main(argv: list[str]) -> int:
    """``python -m etl demo --out DIR [--seed N] [--deals-per-year N] [--years N] [--end YYYY-MM-DD]``."""
    ap = argparse.ArgumentParser(
        prog="python -m etl demo", description="Write the synthetic demo account as a raw export."
    )
    ap.add_argument("--out", required=True, type=Path, help="raw export folder to (re)write")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--deals-per-year", type=int, default=100_000)
    ap.add_argument("--years", type=float, default=1.0)
    ap.add_argument("--end", type=_parse_end, default=None, help="UTC date the export is pulled at (default: now)")
    try:
        args = ap.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    if args.deals_per_year < 0 or args.years <= 0:
        print("demo: --deals-per-year must be >= 0 and --years > 0", file=sys.stderr)
        return 2
    end = args.end or datetime.now(UTC).replace(second=0, microsecond=0)

    def say(msg: str) -> None:
        print(f"demo: {msg}", file=sys.stderr, flush=True)

    t0 = time.perf_counter()
    say(
        f"simulating {args.deals_per_year} deals/year × {args.years:g} years up to {_iso(_ts(end))} (seed {args.seed}) …"
    )
    try:
        account = generate_account(seed=args.seed, deals_per_year=args.deals_per_year, years=args.years, end=end)
    except Exception as exc:  # a config problem (cities) or bad parameters: say what, no traceback
        say(f"error: {exc}")
        return 1
    c = account.counts
    say(f"simulated {c['deals']} deals, {c['events']} events, {c['notes']} notes, {c['tasks']} tasks "
        f"({time.perf_counter() - t0:.1f} s)")  # fmt: skip
    say(f"writing {args.out} as of {_iso(_ts(end))} …")
    extra = {
        "demo": {"seed": args.seed, "deals_per_year": args.deals_per_year, "years": args.years, "end": _iso(_ts(end))}
    }
    try:
        account.export(args.out, end, source="emulator", pulled_at=end, extra=extra, progress=say)
    except FileExistsError as exc:
        say(f"error: {exc}")
        return 1
    except OSError as exc:
        say(f"error: cannot write {args.out}: {exc.strerror or exc}")
        return 1
    say(f"done in {time.perf_counter() - t0:.1f} s")
    return 0
