"""Events, notes and tasks as amoCRM API v4 shows them at a time ``ts``, one ``[lo, hi)`` slice at a time.

Each table is sorted by creation time, so "as of ``ts``" is a prefix; a task is completed at ``ts``
if its completion time has passed.  Event ids are strings, as amoCRM's: the creation time and the
row number in hex (unique, growing with time).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import numpy as np

from etl.simulated.event_log import COLUMNS
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


def _event_columns(account: SynthAccount, lo: int, hi: int) -> Iterator[tuple[int, ...]]:
    """Rows ``lo..hi`` of the events table as tuples of Python ints, in :data:`COLUMNS` order."""
    return zip(*(account.events[key][lo:hi].tolist() for key in COLUMNS), strict=True)


def event_records(account: SynthAccount, ts: int, lo: int = 0, hi: int | None = None) -> list[dict[str, Any]]:
    """Events created by ``ts``, as dicts (the emulator's view; exports use :func:`event_lines`)."""
    lo, hi = _visible(account.events["created"], ts, lo, hi)
    host, acc = account.params.host, account.params.account_id
    uids = account.user_ids.tolist()
    out = []
    for row, (typ, etype, eid, by, created, a0, a1, b0, b1) in enumerate(_event_columns(account, lo, hi), start=lo):
        event_id = f"{created:x}{row:07x}"
        after, before = _event_values(typ, a0, a1, b0, b1, uids)
        out.append(
            {
                "id": event_id,
                "type": EVENT_TYPES[typ],
                "entity_id": eid,
                "entity_type": ENTITY_NAMES[etype],
                "created_by": uids[by] if by >= 0 else 0,
                "created_at": created,
                "value_after": after,
                "value_before": before,
                "account_id": acc,
                "_links": {"self": {"href": f"{host}/api/v4/events/{event_id}"}},
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
    out = []
    for row, (typ, etype, eid, by, created, a0, a1, b0, b1) in enumerate(_event_columns(account, lo, hi), start=lo):
        after, before = _event_json_values(typ, a0, a1, b0, b1, uids)
        event_id = f"{created:x}{row:07x}"
        out.append(
            f'{{"id":"{event_id}","type":"{EVENT_TYPES[typ]}","entity_id":{eid},"entity_type":"{ENTITY_NAMES[etype]}",'
            f'"created_by":{uids[by + 1]},"created_at":{created},"value_after":{after},"value_before":{before},'
            f'"account_id":{acc},"_links":{{"self":{{"href":"{host}/api/v4/events/{event_id}"}}}}}}'
        )
    return out, int(events["created"][lo:hi].max())


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


NOTE_COLUMNS = ("id", "created", "kind", "on_contact", "entity", "user", "duration", "dur_str", "call_status",
                "contact_idx", "by")  # fmt: skip
TASK_COLUMNS = ("id", "created", "completed", "deadline", "kind", "user", "lead_id", "result")


def note_records(account: SynthAccount, ts: int, lo: int = 0, hi: int | None = None) -> dict[str, list[dict[str, Any]]]:
    """``{"lead_notes": [...], "contact_notes": [...]}``: calls and SMS, on the lead or the contact."""
    notes = account.notes
    lo, hi = _visible(notes["created"], ts, lo, hi)
    host, acc = account.params.host, account.params.account_id
    columns = [notes[key][lo:hi].tolist() for key in NOTE_COLUMNS]
    phones = notes["phone"]
    uids, groups = account.user_ids.tolist(), account.user_groups.tolist()
    lead_notes, contact_notes = [], []
    for (note, created, kind, on_contact, entity, user, duration, as_string, status, contact, by), text in zip(
        zip(*columns, strict=True), notes["text"][lo:hi], strict=True
    ):
        params = _note_params(note, created, kind, duration, as_string, status, phones[contact], text)
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
            "note_type": NOTE_TYPES[kind],
            "params": params,
            "account_id": acc,
            "_links": {"self": {"href": f"{host}/api/v4/{path}/{entity}/notes/{note}"}},
        }
        (contact_notes if on_contact else lead_notes).append(record)
    return {"lead_notes": lead_notes, "contact_notes": contact_notes}


def task_records(account: SynthAccount, ts: int, lo: int = 0, hi: int | None = None) -> list[dict[str, Any]]:
    """Tasks created by ``ts``; completed (with their result, if any) once their completion time passed."""
    tasks = account.tasks
    lo, hi = _visible(tasks["created"], ts, lo, hi)
    host, acc = account.params.host, account.params.account_id
    uids, groups = account.user_ids.tolist(), account.user_groups.tolist()
    out = []
    for task, created, completed, deadline, kind, user, lead_id, result in zip(
        *(tasks[key][lo:hi].tolist() for key in TASK_COLUMNS), strict=True
    ):
        done = completed <= ts
        meeting = kind == CONSULTATION_TASK
        out.append(
            {
                "id": task,
                "created_by": uids[user],
                "updated_by": uids[user],
                "created_at": created,
                "updated_at": completed if done else created,
                "responsible_user_id": uids[user],
                "group_id": groups[user],
                "entity_id": lead_id,
                "entity_type": "leads",
                "duration": 3600 if meeting else 0,
                "is_completed": done,
                "task_type_id": 2 if meeting else 1,
                "text": TASK_TEXTS[kind],
                "result": {"text": TASK_RESULTS[result]} if done and result >= 0 else [],
                "complete_till": deadline,
                "account_id": acc,
                "_links": {"self": {"href": f"{host}/api/v4/tasks/{task}"}},
            }
        )
    return out
