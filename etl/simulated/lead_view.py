"""Leads and contacts as amoCRM API v4 shows them at a time ``ts``, from the account's arrays.

A deal's state at ``ts`` is its last status change up to ``ts`` (else its creation status); the
responsible user switches at the transfer; a deleted deal is shown as ``with=only_deleted`` shows
it (almost every field null).  Records are built for one ``[lo, hi)`` slice of deals at a time,
so an export never holds them all.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from etl.simulated.params import INF

if TYPE_CHECKING:
    from etl.simulated.account import SynthAccount

LEAD_NAMES = ("Заявка с сайта", "Входящий звонок", "Онлайн-запись")  # by creation mode
WON, LOST = 142, 143


def lead_state(account: SynthAccount, ts: int) -> dict[str, np.ndarray]:
    """Per deal created <= ts: status, pipeline, responsible, updated/closed time, as at ts."""
    deals, changes = account.deals, account.changes
    n_visible = int(np.searchsorted(deals["created"], ts, side="right"))
    seen = changes["time"] <= ts
    seen_count = np.bincount(changes["deal"][seen], minlength=len(deals["created"]))[:n_visible]
    has_change = seen_count > 0
    last = np.where(has_change, changes["start"][:n_visible] + seen_count - 1, 0)
    status = np.where(has_change, changes["status"][last], deals["init_status"][:n_visible])
    pipe = np.where(has_change, changes["pipe"][last], deals["init_pipe"][:n_visible])
    last_t = np.where(has_change, changes["time"][last], deals["created"][:n_visible])
    updated_by = np.where(has_change, changes["user"][last], deals["creator"][:n_visible])
    transferred = deals["t_transfer"][:n_visible] <= ts
    responsible = np.where(transferred, deals["resp1"][:n_visible], deals["resp0"][:n_visible])
    restored = deals["t_restore"][:n_visible] <= ts
    updated = np.maximum(last_t, np.where(transferred, deals["t_transfer"][:n_visible], 0))
    updated = np.maximum(updated, np.where(restored, deals["t_restore"][:n_visible], 0))
    closed = np.isin(status, (WON, LOST))
    # closest open task deadline per deal
    tasks = account.tasks
    open_task = (tasks["created"] <= ts) & (tasks["completed"] > ts) & (tasks["deal"] < n_visible)
    closest = np.full(n_visible, INF, dtype=np.int64)
    np.minimum.at(closest, tasks["deal"][open_task], tasks["deadline"][open_task])
    return {
        "n": np.int64(n_visible),
        "status": status,
        "pipe": pipe,
        "updated": updated,
        "upd_by": updated_by,
        "resp": responsible,
        "closed_at": np.where(closed, last_t, -1),
        "deleted": (deals["t_delete"][:n_visible] <= ts) & ~restored,
        "contract": deals["t_contract"][:n_visible] <= ts,
        "closest": closest,
    }


def _select_value(field_id: int, name: str, value: str, enum_id: int) -> dict[str, Any]:
    return {
        "field_id": field_id,
        "field_name": name,
        "field_code": None,
        "field_type": "select",
        "values": [{"value": value, "enum_id": enum_id}],
    }


def _deleted_lead(lead_id: int, updated_by: int, deleted_at: int, account_id: int, host: str) -> dict[str, Any]:
    nulls = ("name", "price", "responsible_user_id", "group_id", "status_id", "pipeline_id", "loss_reason_id",
             "created_by")  # fmt: skip
    return {
        "id": lead_id,
        **dict.fromkeys(nulls),
        "updated_by": updated_by,
        "created_at": None,
        "updated_at": deleted_at,
        "closed_at": None,
        "closest_task_at": None,
        "is_deleted": True,
        "custom_fields_values": None,
        "score": None,
        "account_id": account_id,
        "labor_cost": None,
        "_links": {"self": {"href": f"{host}/api/v4/leads/{lead_id}"}},
        "_embedded": {"tags": [], "companies": []},
    }


DEAL_COLUMNS = (
    "id",
    "created",
    "creator",
    "city",
    "has_city",
    "price",
    "package",
    "contact_id",
    "name_kind",
    "t_delete",
)
STATE_COLUMNS = ("status", "pipe", "updated", "upd_by", "resp", "closed_at", "deleted", "contract", "closest")


def lead_records(
    account: SynthAccount, ts: int, state: dict[str, np.ndarray] | None = None, lo: int = 0, hi: int | None = None
) -> dict[str, list[dict[str, Any]]]:
    """``{"leads": [...], "deleted_leads": [...]}`` for deals ``lo..hi`` visible at ``ts``."""
    state = lead_state(account, ts) if state is None else state
    n_visible = int(state["n"])
    hi = n_visible if hi is None else min(hi, n_visible)
    lo = min(lo, hi)
    host, acc = account.params.host, account.params.account_id
    uids, groups = account.user_ids.tolist(), account.user_groups.tolist()
    columns = [account.deals[key][lo:hi].tolist() for key in DEAL_COLUMNS]
    columns += [state[key][lo:hi].tolist() for key in STATE_COLUMNS]
    leads: list[dict[str, Any]] = []
    deleted: list[dict[str, Any]] = []
    for (
        lead_id, created, creator, city, has_city, price, package, contact, name_kind, deleted_at,
        status, pipe, updated, updated_by, responsible, closed_at, is_deleted, contract, closest,
    ) in zip(*columns, strict=True):  # fmt: skip
        updated_by = uids[updated_by] if updated_by >= 0 else 0
        if is_deleted:
            deleted.append(_deleted_lead(lead_id, updated_by, deleted_at, acc, host))
            continue
        values = []
        if has_city:
            values.append(
                _select_value(account.city_field_id, "Город", account.city_names[city], account.city_enum_ids[city])
            )
        if contract:
            package_name = account.params.packages[package][0]
            values.append(
                _select_value(account.package_field_id, "Пакет", package_name, account.package_enum_ids[package])
            )
        leads.append(
            {
                "id": lead_id,
                "name": f"{LEAD_NAMES[name_kind]} #{lead_id}",
                "price": price if contract else 0,
                "responsible_user_id": uids[responsible],
                "group_id": groups[responsible],
                "status_id": status,
                "pipeline_id": pipe,
                "loss_reason_id": None,
                "created_by": uids[creator] if creator >= 0 else 0,
                "updated_by": updated_by,
                "created_at": created,
                "updated_at": updated,
                "closed_at": closed_at if closed_at >= 0 else None,
                "closest_task_at": closest if closest < INF else None,
                "is_deleted": False,
                "custom_fields_values": values or None,
                "score": None,
                "account_id": acc,
                "labor_cost": None,
                "_links": {"self": {"href": f"{host}/api/v4/leads/{lead_id}"}},
                "_embedded": {
                    "tags": [],
                    "companies": [],
                    "contacts": [
                        {
                            "id": contact,
                            "is_main": True,
                            "_links": {"self": {"href": f"{host}/api/v4/contacts/{contact}"}},
                        }
                    ],
                },
            }
        )
    return {"leads": leads, "deleted_leads": deleted}


def contact_links(account: SynthAccount, ts: int) -> dict[int, list[int]]:
    """Contact index → ids of its deals visible at ``ts`` (ascending)."""
    deals = account.deals
    n_visible = int(np.searchsorted(deals["created"], ts, side="right"))
    visible = ~((deals["t_delete"][:n_visible] <= ts) & (deals["t_restore"][:n_visible] > ts))
    contact = deals["contact_idx"][:n_visible][visible]
    lead_id = deals["id"][:n_visible][visible]
    order = np.lexsort((lead_id, contact))
    links: dict[int, list[int]] = {}
    for contact_index, lead in zip(contact[order].tolist(), lead_id[order].tolist(), strict=True):
        links.setdefault(contact_index, []).append(lead)
    return links


def contact_records(
    account: SynthAccount, ts: int, links: dict[int, list[int]] | None = None, lo: int = 0, hi: int | None = None
) -> list[dict[str, Any]]:
    """Contacts ``lo..hi`` created by ``ts``; updated when a returning client's second deal linked."""
    contacts = account.contacts
    host, acc = account.params.host, account.params.account_id
    n_visible = int(np.searchsorted(contacts["created"], ts, side="right"))
    hi = n_visible if hi is None else min(hi, n_visible)
    lo = min(lo, hi)
    links = contact_links(account, ts) if links is None else links
    link_t = contacts["link2"][lo:hi]
    updated = np.where(link_t <= ts, link_t, contacts["created"][lo:hi]).tolist()
    ids, created = contacts["id"][lo:hi].tolist(), contacts["created"][lo:hi].tolist()
    responsible = contacts["resp"][lo:hi].tolist()
    uids, groups = account.user_ids, account.user_groups
    out = []
    for i in range(hi - lo):
        contact_id = ids[i]
        row = lo + i
        first, last = contacts["first"][row], contacts["last"][row]
        phones = [{"value": contacts["phone"][row], "enum_id": 1001, "enum_code": "MOB"}]
        if contacts["phone2"][row]:
            phones.append({"value": contacts["phone2"][row], "enum_id": 1002, "enum_code": "WORK"})
        phone_field = {
            "field_id": 500001, "field_name": "Телефон", "field_code": "PHONE", "field_type": "multitext",
            "values": phones,
        }  # fmt: skip
        out.append(
            {
                "id": contact_id,
                "name": f"{first} {last}",
                "first_name": first,
                "last_name": last,
                "responsible_user_id": int(uids[responsible[i]]),
                "group_id": int(groups[responsible[i]]),
                "created_by": 0,
                "updated_by": 0,
                "created_at": created[i],
                "updated_at": updated[i],
                "closest_task_at": None,
                "is_deleted": False,
                "is_unsorted": False,
                "custom_fields_values": [phone_field],
                "account_id": acc,
                "_links": {"self": {"href": f"{host}/api/v4/contacts/{contact_id}"}},
                "_embedded": {
                    "tags": [],
                    "companies": [],
                    "leads": [
                        {"id": lead, "_links": {"self": {"href": f"{host}/api/v4/leads/{lead}"}}}
                        for lead in links.get(row, [])
                    ],
                },
            }
        )
    return out
