"""Events, notes and tasks as amoCRM API v4 shows them at a time ``ts``, one ``[lo, hi)`` slice at a time.

Each table is sorted by creation time, so "as of ``ts``" is a prefix; a task is completed at ``ts``
if its completion time has passed.  Event ids are strings, as amoCRM's: the creation time and the
row number in hex (unique, growing with time).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import numpy as np

from etl.simulated.vocabulary import EVENT_TYPES, TASK_RESULTS, TASK_TEXTS

if TYPE_CHECKING:
    from etl.simulated.account import SynthAccount

ENTITY_NAMES = ("lead", "contact", "task")
NOTE_TYPES = ("call_in", "call_out", "sms_in", "sms_out")
CONSULTATION_TASK = 3  # a meeting (task type 2, an hour long); every other task is a call (type 1)


def _visible(created: np.ndarray, ts: int, lo: int, hi: int | None) -> tuple[int, int]:
    """The ``[lo, hi)`` slice clipped to the rows created by ``ts`` (tables are sorted by time)."""
    n_visible = int(np.searchsorted(created, ts, side="right"))
    hi = n_visible if hi is None else min(hi, n_visible)
    return min(lo, hi), hi


def _event_values(typ: int, a0: int, a1: int, b0: int, b1: int, uids: list[int]) -> tuple[list, list]:
    """(value_after, value_before) of one event."""
    if typ == 0:  # lead_added
        return [{"lead_status": {"id": a0, "pipeline_id": a1}}], []
    if typ == 1:  # lead_status_changed
        return [{"lead_status": {"id": a0, "pipeline_id": a1}}], [{"lead_status": {"id": b0, "pipeline_id": b1}}]
    if typ == 2:  # entity_responsible_changed
        return [{"responsible_user": {"id": uids[a0]}}], [{"responsible_user": {"id": uids[b0]}}]
    if typ >= 7:  # call / sms: points to the note
        return [{"note": {"id": a0}}], []
    return [], []


def event_records(account: SynthAccount, ts: int, lo: int = 0, hi: int | None = None) -> list[dict[str, Any]]:
    events = account.events
    lo, hi = _visible(events["created"], ts, lo, hi)
    host, acc = account.params.host, account.params.account_id
    ids = [f"{created:x}{row:07x}" for row, created in enumerate(events["created"][lo:hi].tolist(), start=lo)]
    col = {
        key: events[key][lo:hi].tolist() for key in ("type", "etype", "eid", "by", "created", "a0", "a1", "b0", "b1")
    }
    uids = account.user_ids.tolist()
    out = []
    for i in range(hi - lo):
        typ, by = col["type"][i], col["by"][i]
        after, before = _event_values(typ, col["a0"][i], col["a1"][i], col["b0"][i], col["b1"][i], uids)
        out.append(
            {
                "id": ids[i],
                "type": EVENT_TYPES[typ],
                "entity_id": col["eid"][i],
                "entity_type": ENTITY_NAMES[col["etype"][i]],
                "created_by": uids[by] if by >= 0 else 0,
                "created_at": col["created"][i],
                "value_after": after,
                "value_before": before,
                "account_id": acc,
                "_links": {"self": {"href": f"{host}/api/v4/events/{ids[i]}"}},
            }
        )
    return out


def _event_json_values(typ: int, a0: int, a1: int, b0: int, b1: int, uids: list[int]) -> tuple[str, str]:
    """:func:`_event_values` as compact JSON; ``uids`` is indexed by user index + 1 (robot → 0)."""
    if typ == 0:
        return f'[{{"lead_status":{{"id":{a0},"pipeline_id":{a1}}}}}]', "[]"
    if typ == 1:
        return (
            f'[{{"lead_status":{{"id":{a0},"pipeline_id":{a1}}}}}]',
            f'[{{"lead_status":{{"id":{b0},"pipeline_id":{b1}}}}}]',
        )
    if typ == 2:
        return f'[{{"responsible_user":{{"id":{uids[a0 + 1]}}}}}]', f'[{{"responsible_user":{{"id":{uids[b0 + 1]}}}}}]'
    if typ >= 7:
        return f'[{{"note":{{"id":{a0}}}}}]', "[]"
    return "[]", "[]"


def event_lines(account: SynthAccount, ts: int, lo: int, hi: int) -> tuple[list[str], int | None]:
    """The JSON lines of :func:`event_records` (same bytes), formatted straight from the arrays.

    Events are most of an export; skipping the dicts and the JSON encoder makes it ~3× cheaper.
    Every value is a number or a fixed ASCII string, so no escaping is needed (the host is escaped).
    """
    events = account.events
    lo, hi = _visible(events["created"], ts, lo, hi)
    if hi <= lo:
        return [], None
    host = json.dumps(account.params.host, ensure_ascii=False)[1:-1]
    acc = account.params.account_id
    uids = [0, *account.user_ids.tolist()]  # index by + 1: -1 (robot) → 0
    col = {
        key: events[key][lo:hi].tolist() for key in ("type", "etype", "eid", "by", "created", "a0", "a1", "b0", "b1")
    }
    created = col["created"]
    out = []
    for i in range(hi - lo):
        typ = col["type"][i]
        after, before = _event_json_values(typ, col["a0"][i], col["a1"][i], col["b0"][i], col["b1"][i], uids)
        sid = f"{created[i]:x}{lo + i:07x}"
        out.append(
            f'{{"id":"{sid}","type":"{EVENT_TYPES[typ]}","entity_id":{col["eid"][i]},'
            f'"entity_type":"{ENTITY_NAMES[col["etype"][i]]}","created_by":{uids[col["by"][i] + 1]},'
            f'"created_at":{created[i]},"value_after":{after},"value_before":{before},'
            f'"account_id":{acc},"_links":{{"self":{{"href":"{host}/api/v4/events/{sid}"}}}}}}'
        )
    return out, max(created)


def _note_params(note: int, created: int, kind: int, duration: int, as_string: bool, status: int, phone: str,
                 text: str) -> dict[str, Any]:  # fmt: skip
    """A call note's Mango Office details, or an SMS's text."""
    if kind >= 2:
        return {"text": text, "phone": phone}
    uniq = f"{note:08x}-{created:08x}-4c1a-9e00-{(note * 2654435761) % 2**48:012x}"
    return {
        "uniq": uniq,
        "duration": str(duration) if as_string else duration,
        "source": "Mango Office",
        "link": f"https://records.mango-office.example/{uniq}.mp3" if duration > 0 else "",
        "phone": phone,
        "call_result": "Разговор состоялся" if duration > 0 else "",
        "call_status": status,
    }


def note_records(account: SynthAccount, ts: int, lo: int = 0, hi: int | None = None) -> dict[str, list[dict[str, Any]]]:
    """``{"lead_notes": [...], "contact_notes": [...]}``: calls and SMS, on the lead or the contact."""
    notes = account.notes
    lo, hi = _visible(notes["created"], ts, lo, hi)
    host, acc = account.params.host, account.params.account_id
    keys = ("id", "created", "kind", "on_contact", "entity", "user", "duration", "dur_str", "call_status",
            "contact_idx", "by")  # fmt: skip
    col = {key: notes[key][lo:hi].tolist() for key in keys}
    phones, texts = notes["phone"], notes["text"]
    uids, groups = account.user_ids.tolist(), account.user_groups.tolist()
    lead_notes, contact_notes = [], []
    for i in range(hi - lo):
        note, created, by, user = col["id"][i], col["created"][i], col["by"][i], col["user"][i]
        entity, on_contact = col["entity"][i], col["on_contact"][i]
        params = _note_params(
            note, created, col["kind"][i], col["duration"][i], col["dur_str"][i], col["call_status"][i],
            phones[col["contact_idx"][i]], texts[lo + i],
        )  # fmt: skip
        path = "contacts" if on_contact else "leads"
        record = {
            "id": note,
            "entity_id": entity,
            "created_by": uids[by] if by >= 0 else 0,
            "updated_by": uids[by] if by >= 0 else 0,
            "created_at": created,
            "updated_at": created,
            "responsible_user_id": uids[user],
            "group_id": groups[user],
            "note_type": NOTE_TYPES[col["kind"][i]],
            "params": params,
            "account_id": acc,
            "_links": {"self": {"href": f"{host}/api/v4/{path}/{entity}/notes/{note}"}},
        }
        (contact_notes if on_contact else lead_notes).append(record)
    return {"lead_notes": lead_notes, "contact_notes": contact_notes}


def task_records(account: SynthAccount, ts: int, lo: int = 0, hi: int | None = None) -> list[dict[str, Any]]:
    tasks = account.tasks
    lo, hi = _visible(tasks["created"], ts, lo, hi)
    host, acc = account.params.host, account.params.account_id
    col = {key: tasks[key][lo:hi].tolist() for key in ("id", "created", "completed", "deadline", "kind", "user",
                                                       "lead_id", "result")}  # fmt: skip
    uids, groups = account.user_ids.tolist(), account.user_groups.tolist()
    out = []
    for i in range(hi - lo):
        completed, kind, user, result = col["completed"][i], col["kind"][i], col["user"][i], col["result"][i]
        done = completed <= ts
        task = col["id"][i]
        meeting = kind == CONSULTATION_TASK
        out.append(
            {
                "id": task,
                "created_by": uids[user],
                "updated_by": uids[user],
                "created_at": col["created"][i],
                "updated_at": completed if done else col["created"][i],
                "responsible_user_id": uids[user],
                "group_id": groups[user],
                "entity_id": col["lead_id"][i],
                "entity_type": "leads",
                "duration": 3600 if meeting else 0,
                "is_completed": done,
                "task_type_id": 2 if meeting else 1,
                "text": TASK_TEXTS[kind],
                "result": {"text": TASK_RESULTS[result]} if done and result >= 0 else [],
                "complete_till": col["deadline"][i],
                "account_id": acc,
                "_links": {"self": {"href": f"{host}/api/v4/tasks/{task}"}},
            }
        )
    return out
