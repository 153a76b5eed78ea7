"""The simulated account: its whole timeline as flat arrays, shown as amoCRM would at any time.

Every deal is simulated once over its whole life (status changes, calls, SMS, tasks with their
completion times) into flat numpy arrays; :meth:`SynthAccount.as_of` then only *filters* that
timeline by a time ``t`` and shapes API v4 dicts.  This is what lets the emulator "advance its
clock" cheaply and keeps the account identical for the same seed and parameters.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from etl.simulated.activity_view import event_lines, event_records, note_records, task_records
from etl.simulated.lead_view import contact_links, contact_records, lead_records, lead_state
from etl.simulated.params import DAY, SynthParams
from etl.simulated.raw_export import ExportWriter
from etl.simulated.timekit import iso, no_gc, to_ts


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
        return (
            f"SynthAccount(start={iso(to_ts(self.start))}, end={iso(to_ts(self.end))}, seed={self.seed}, "
            f"counts={self.counts})"
        )

    def as_of(self, when: datetime) -> dict[str, Any]:
        """The account exactly as amoCRM API v4 would show it at time ``when`` (API-shaped dicts).

        Fresh dicts on every call (callers may mutate them).  The cyclic GC is paused meanwhile:
        millions of small dicts would otherwise trigger it again and again for nothing.
        """
        ts = to_ts(when)
        with no_gc():
            return {
                "account": self.account_record(),
                **self._fixed_lists(),
                **lead_records(self, ts),
                "contacts": contact_records(self, ts),
                "events": event_records(self, ts),
                **note_records(self, ts),
                "tasks": task_records(self, ts),
            }

    def _fixed_lists(self) -> dict[str, list[dict[str, Any]]]:
        """Users, pipelines and lead fields never change: deep copies, so callers may mutate them."""
        return {name: json.loads(json.dumps(getattr(self, name))) for name in ("users", "pipelines", "lead_fields")}

    def export(
        self,
        out_dir: Path,
        when: datetime,
        *,
        source: str = "emulator",
        pulled_at: datetime | None = None,
        extra: dict | None = None,
        chunk: int = 50_000,
        progress: Callable[[str], None] | None = None,
    ) -> None:
        """``write_raw_export(out_dir, self.as_of(when), …)`` byte for byte, built and written chunk by chunk.

        Never holds the whole view in memory (a five-year account is tens of millions of dicts).
        """
        writer = ExportWriter(out_dir)
        try:
            self.emit(writer, when, chunk, progress)
            writer.commit(self.account_record(), source, pulled_at or when, extra)
        except BaseException:
            writer.abort()
            raise

    def emit(
        self, sink: Any, when: datetime, chunk: int = 50_000, progress: Callable[[str], None] | None = None
    ) -> None:
        """Hand the view at ``when`` to ``sink`` chunk by chunk: ``sink.add(name, records)`` and
        ``sink.add_lines(name, json_lines, cursor)`` (events, unless ``sink.wants_records``), in the
        raw export's order; the trashed
        leads last, as ``deleted_leads``.  Feeds the chunked export and the emulator's record stores."""
        with no_gc():
            self._emit(sink, to_ts(when), chunk, progress or (lambda message: None))

    def _emit(self, writer: Any, ts: int, chunk: int, progress: Callable[[str], None]) -> None:
        for name, records in self._fixed_lists().items():
            writer.add(name, records)
        state = lead_state(self, ts)
        deleted: list[dict[str, Any]] = []
        for lo in range(0, int(state["n"]), chunk):
            part = lead_records(self, ts, state, lo, lo + chunk)
            writer.add("leads", part["leads"])
            deleted += part["deleted_leads"]
        writer.add("deleted_leads", deleted)
        links = contact_links(self, ts)
        for lo in range(0, len(self.contacts["id"]), chunk):
            writer.add("contacts", contact_records(self, ts, links, lo, lo + chunk))
        progress(f"leads and contacts written ({writer.summary['leads']['records']} leads)")
        for lo in range(0, len(self.events["created"]), chunk):
            if getattr(writer, "wants_records", False):  # it would decode the lines again
                writer.add("events", event_records(self, ts, lo, lo + chunk))
            else:
                writer.add_lines("events", *event_lines(self, ts, lo, lo + chunk))
        progress(f"events written ({writer.summary['events']['records']})")
        for lo in range(0, len(self.notes["created"]), chunk):
            part = note_records(self, ts, lo, lo + chunk)
            writer.add("lead_notes", part["lead_notes"])
            writer.add("contact_notes", part["contact_notes"])
        for lo in range(0, len(self.tasks["created"]), chunk):
            writer.add("tasks", task_records(self, ts, lo, lo + chunk))
        progress(
            f"notes and tasks written ({writer.summary['lead_notes']['records']} + "
            f"{writer.summary['contact_notes']['records']} notes, {writer.summary['tasks']['records']} tasks)"
        )

    def account_record(self) -> dict[str, Any]:
        """``GET /api/v4/account`` with ``datetime_settings`` embedded (created 400 days before the start)."""
        params = self.params
        created = to_ts(self.start) - 400 * DAY
        return {
            "id": params.account_id,
            "name": "Призыва.нет",
            "subdomain": params.subdomain,
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
            "_links": {"self": {"href": f"{params.host}/api/v4/account"}},
            "_embedded": {
                "datetime_settings": {
                    "date_pattern": "d.m.Y H:i",
                    "short_date_pattern": "d.m.Y",
                    "short_time_pattern": "H:i",
                    "date_format": "d.m.Y",
                    "time_format": "H:i:s",
                    "timezone": params.account_timezone,
                    "timezone_offset": "+03:00",
                }
            },
        }
