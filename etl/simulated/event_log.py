"""The account's event log: one event per thing that happened, sorted by time (``rngs[10]``).

Columns: ``type`` (index into :data:`~etl.simulated.vocabulary.EVENT_TYPES`), ``etype`` (0 lead,
1 contact, 2 task), ``eid`` (entity id), ``by`` (user index, -1 robot), ``created`` and four
payload columns whose meaning depends on the type (``a*`` the value after, ``b*`` before).  A few
status changes of leads that do not exist (deleted long ago) are added, as real accounts have.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from etl.simulated.arrivals import Arrivals
from etl.simulated.cast import Cast
from etl.simulated.journeys import Booking
from etl.simulated.params import INF, S_NEW, S_NO_ANSWER, SynthParams
from etl.simulated.status_changes import Changes, Slots, Trash

COLUMNS = ("type", "etype", "eid", "by", "created", "a0", "a1", "b0", "b1")
(LEAD_ADDED, LEAD_STATUS_CHANGED, RESPONSIBLE_CHANGED, LEAD_DELETED, LEAD_RESTORED, TASK_ADDED, TASK_COMPLETED) = range(
    7
)
NOTE_EVENT_TYPES = np.array([7, 8, 9, 10])  # incoming/outgoing call, incoming/outgoing SMS, by note kind
LEAD, CONTACT, TASK = range(3)


class EventColumns:
    """Event rows gathered block by block (every value broadcast to int64 columns)."""

    def __init__(self) -> None:
        self.blocks: list[tuple[np.ndarray, ...]] = []

    def add(self, typ: Any, etype: Any, eid: np.ndarray, by: Any, created: Any,
            a0: Any = 0, a1: Any = 0, b0: Any = 0, b1: Any = 0) -> None:  # fmt: skip
        size = len(eid)
        self.blocks.append(
            tuple(
                np.broadcast_to(np.asarray(value, dtype=np.int64), (size,)).copy()
                for value in (typ, etype, eid, by, created, a0, a1, b0, b1)
            )
        )

    def __len__(self) -> int:
        return sum(len(block[0]) for block in self.blocks)

    def sorted_table(self) -> dict[str, np.ndarray]:
        columns = [np.concatenate([block[i] for block in self.blocks]) for i in range(len(COLUMNS))]
        order = np.argsort(columns[4], kind="stable")
        return dict(zip(COLUMNS, (column[order] for column in columns), strict=True))


def make_events(
    rng: np.random.Generator, params: SynthParams, cast: Cast, deals: Arrivals, booked: Booking, slots: Slots,
    binned: Trash, changes: Changes, notes: dict[str, Any], tasks: dict[str, np.ndarray], deal_ids: np.ndarray,
    window: tuple[int, int],
) -> tuple[dict[str, np.ndarray], int]:  # fmt: skip
    """The events table and how many "unknown lead" events it holds."""
    events = EventColumns()
    events.add(LEAD_ADDED, LEAD, deal_ids, deals.creator, deals.created, changes.init_status, changes.init_pipe)
    deal = changes.deal
    first_change = np.concatenate([[True], deal[1:] != deal[:-1]])
    prev_status = np.where(first_change, changes.init_status[deal], np.concatenate([[0], changes.status[:-1]]))
    prev_pipe = np.where(first_change, changes.init_pipe[deal], np.concatenate([[0], changes.pipe[:-1]]))
    events.add(
        LEAD_STATUS_CHANGED, LEAD, deal_ids[deal], changes.user, changes.time, changes.status, changes.pipe,
        prev_status, prev_pipe,
    )  # fmt: skip
    resp0, resp1 = deals.resp0, booked.resp1
    moved = np.nonzero(binned.t_transfer >= 0)[0]
    by_robot = np.where(slots.robot_transfer[moved], -1, resp0[moved])
    events.add(
        RESPONSIBLE_CHANGED, LEAD, deal_ids[moved], by_robot, binned.t_transfer[moved], resp1[moved], 0, resp0[moved], 0
    )
    gone = np.nonzero(binned.t_delete < INF)[0]
    events.add(LEAD_DELETED, LEAD, deal_ids[gone], np.zeros(len(gone)), binned.t_delete[gone])
    back = np.nonzero(binned.t_restore < INF)[0]
    events.add(LEAD_RESTORED, LEAD, deal_ids[back], np.zeros(len(back)), binned.t_restore[back])
    events.add(TASK_ADDED, TASK, tasks["id"], tasks["user"], tasks["created"])
    done = np.nonzero(tasks["completed"] < INF)[0]
    events.add(TASK_COMPLETED, TASK, tasks["id"][done], tasks["user"][done], tasks["completed"][done])
    note_ids = notes["id"]
    events.add(
        NOTE_EVENT_TYPES[notes["kind"]], np.where(notes["on_contact"], CONTACT, LEAD), notes["entity"], notes["by"],
        notes["created"], note_ids, 0 * note_ids, 0 * note_ids, 0 * note_ids,
    )  # fmt: skip
    n_unknown = max(3, int(round(params.unknown_event_share * len(events))))
    start_ts, end_ts = window
    ghost_ids = 30_000_001 - rng.integers(1, 100_000, n_unknown)
    ghost_t = rng.integers(start_ts, end_ts, n_unknown)
    ghost_pipe = rng.integers(0, 2, n_unknown)
    events.add(
        LEAD_STATUS_CHANGED, LEAD, ghost_ids, np.full(n_unknown, 1), ghost_t,
        cast.status_ids[ghost_pipe, S_NO_ANSWER], cast.pipeline_ids[ghost_pipe],
        cast.status_ids[ghost_pipe, S_NEW], cast.pipeline_ids[ghost_pipe],
    )  # fmt: skip
    return events.sorted_table(), n_unknown
