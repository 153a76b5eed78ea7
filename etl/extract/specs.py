"""Which collections a pull reads, and how: endpoint, paging mode and cursor (``AMOCRM.md``).

Keyset collections are walked by ``updated_at`` (offsets over live data skip records); events
never change, so offsets from a ``created_at`` filter are safe for them.  Incremental pulls start
``overlap_s`` before the last cursor (ties, clock skew); staging drops what was already written.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from etl.extract import rawio
from etl.extract.amo_client import AmoClient, lenient_int

#: Events a pull asks for: the ones the build reads (:data:`etl.extract.rawio.EVENT_TYPES`, the
#: one list) plus ``entity_responsible_changed``, which DATA.md §1 requires in every raw export
#: (the only record of who was responsible when; no build reads it yet, ~1 % of a year's events).
#: Not pulled: call and SMS events (they only point at notes, read from the notes endpoints),
#: ``task_added`` (tasks.jsonl has ``created_at``), ``task_deadline_changed``: together more than
#: half of an account's events, at 100 a request.
EVENT_TYPES: tuple[str, ...] = (*rawio.EVENT_TYPES, "entity_responsible_changed")
#: Note types that are touches (calls and SMS): the ones the build reads.
NOTE_TYPES: tuple[str, ...] = rawio.TOUCH_KINDS


@dataclass(frozen=True)
class Spec:
    """How one collection is read: endpoint, ``_embedded`` key, paging mode and cursor field."""

    name: str
    path: str
    key: str
    mode: str  # "object" | "unpaged" | "all" | "keyset" | "offset"
    field: str | None = None
    params: tuple[tuple[str, str], ...] = ()
    limit_cap: int = 250


SPECS: tuple[Spec, ...] = (
    Spec("account", "/api/v4/account", "", "object", params=(("with", "datetime_settings"),)),
    Spec("users", "/api/v4/users", "users", "all"),
    Spec("pipelines", "/api/v4/leads/pipelines", "pipelines", "unpaged"),
    Spec("lead_fields", "/api/v4/leads/custom_fields", "custom_fields", "all"),
    Spec("leads", "/api/v4/leads", "leads", "keyset", "updated_at", (("with", "contacts"),)),
    Spec("contacts", "/api/v4/contacts", "contacts", "keyset", "updated_at", (("with", "leads"),)),
    Spec("events", "/api/v4/events", "events", "offset", "created_at", (("filter[type]", ",".join(EVENT_TYPES)),), 100),
    Spec(
        "lead_notes",
        "/api/v4/leads/notes",
        "notes",
        "keyset",
        "updated_at",
        tuple(("filter[note_type][]", t) for t in NOTE_TYPES),
    ),
    Spec(
        "contact_notes",
        "/api/v4/contacts/notes",
        "notes",
        "keyset",
        "updated_at",
        tuple(("filter[note_type][]", t) for t in NOTE_TYPES),
    ),
    Spec("tasks", "/api/v4/tasks", "tasks", "keyset", "updated_at"),
)
COLLECTIONS: tuple[str, ...] = tuple(s.name for s in SPECS)
DELETED = "leads_deleted"  # the with=only_deleted pass: its own cursor inside export.json's leads entry


def start_from(cursor: Any, overlap_s: int, full: bool) -> int | None:
    """Where an incremental walk starts: ``overlap_s`` before the cursor; None = from the beginning."""
    value = lenient_int(cursor)
    if full or value is None:
        return None
    return max(0, value - overlap_s)


def walk(client: AmoClient, spec: Spec, limit: int, start: int | None) -> Iterator[list[dict[str, Any]]]:
    """The pages of one collection, read the way its spec says."""
    params = list(spec.params)
    if spec.mode == "unpaged":
        body = client.get(spec.path, params)
        rows = ((body or {}).get("_embedded") or {}).get(spec.key) or []
        if rows:
            yield rows
    elif spec.mode == "all":
        yield from client.iter_offset_pages(spec.path, params, spec.key, limit)
    elif spec.mode == "keyset":
        yield from client.iter_keyset_pages(spec.path, params, spec.key, limit, spec.field or "updated_at", start)
    else:  # offset paging with a from filter: events never change, so offsets are safe
        if start is not None:
            params.append((f"filter[{spec.field}][from]", str(start)))
        yield from client.iter_offset_pages(spec.path, params, spec.key, limit)
