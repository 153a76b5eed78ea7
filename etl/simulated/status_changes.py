"""A deal's journey as amoCRM status changes, with deals deleted to the trash (some restored).

The journey stages give one time per *status slot* (-1 = never); here the slots become strictly
increasing change times (a minute apart at least), changes inside the trash are dropped, and the
changes are flattened into one table sorted by deal (``rngs[6]``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from etl.simulated.arrivals import Arrivals
from etl.simulated.cast import Cast
from etl.simulated.journeys import Booking, Consultations, Contracts, FirstContact
from etl.simulated.params import (
    DAY,
    HOUR,
    INF,
    MINUTE,
    OFFICE,
    S_ATTENDED,
    S_BOOKED,
    S_CONTRACT,
    S_LOST,
    S_NEW,
    S_NO_ANSWER,
    S_NO_SHOW,
    S_NOT_BOOKED,
    S_PHONE,
    S_UNSORTED,
    S_WON,
    SynthParams,
)  # fmt: skip
from etl.simulated.timekit import force_one, uniform_ints

#: Columns of the slot table, in the order a deal goes through them.
SLOT_ACCEPT, SLOT_NO_ANSWER, SLOT_PHONE, SLOT_NOT_BOOKED, SLOT_BOOKED, SLOT_TRANSFER = range(6)
SLOT_OUTCOME1, SLOT_REBOOKED, SLOT_OUTCOME2, SLOT_CONTRACT, SLOT_WON, SLOT_LOST, SLOT_REFUND = range(6, 13)


@dataclass(frozen=True)
class Slots:
    times: np.ndarray  # [deal, slot] → change time or -1
    status: np.ndarray  # [deal, slot] → status slot
    pipe: np.ndarray  # [deal, slot] → pipeline (0/1)
    user: np.ndarray  # [deal, slot] → user index, -1 = robot
    robot_transfer: np.ndarray  # the transfer was made by a robot
    t_transfer: np.ndarray
    t_contract: np.ndarray


def status_slots(
    rng: np.random.Generator, deals: Arrivals, contact: FirstContact, booked: Booking, cons: Consultations,
    deal_contracts: Contracts,
) -> Slots:  # fmt: skip
    n_deals = deals.count
    times = np.stack(
        [
            contact.t_accept, contact.t_na, contact.t_phone, booked.t_nb, booked.t_book_slot, booked.t_transfer,
            cons.t_out1, cons.t_rebook, cons.t_out2, deal_contracts.t_contract, deal_contracts.t_won,
            deal_contracts.t_lost, deal_contracts.t_refund,
        ],
        axis=1,
    ).astype(np.int64)  # fmt: skip
    outcome1 = np.where(cons.att1, S_ATTENDED, S_NO_SHOW)
    outcome2 = np.where(cons.att2, S_ATTENDED, S_NO_SHOW)
    status = np.stack(
        [
            np.full(n_deals, S_NEW), np.full(n_deals, S_NO_ANSWER), np.full(n_deals, S_PHONE), np.full(n_deals, S_NOT_BOOKED),
            np.full(n_deals, S_BOOKED), np.full(n_deals, S_BOOKED), outcome1, np.full(n_deals, S_BOOKED), outcome2,
            np.full(n_deals, S_CONTRACT), np.full(n_deals, S_WON), np.full(n_deals, S_LOST), np.full(n_deals, S_LOST),
        ],
        axis=1,
    )  # fmt: skip
    pipe = np.stack([deals.pipe0] * 5 + [np.full(n_deals, OFFICE)] + [booked.pipe_cur] * 7, axis=1)
    robot_transfer = rng.random(n_deals) < 0.5
    user = np.stack([deals.resp0] * 5 + [np.where(robot_transfer, -1, deals.resp0)] + [booked.resp1] * 7, axis=1)
    # strictly increasing times per deal (a minute apart at least)
    prev = deals.created.copy()
    for slot in range(times.shape[1]):
        column = times[:, slot]
        valid = column >= 0
        column = np.where(valid, np.maximum(column, prev + MINUTE), -1)
        times[:, slot] = column
        prev = np.where(valid, column, prev)
    t_transfer = np.where(times[:, SLOT_TRANSFER] >= 0, times[:, SLOT_TRANSFER], -1)
    t_contract = np.where(times[:, SLOT_CONTRACT] >= 0, times[:, SLOT_CONTRACT], -1)
    return Slots(times, status, pipe, user, robot_transfer, t_transfer, t_contract)


@dataclass(frozen=True)
class Trash:
    slot_times: np.ndarray  # the slot times without the changes lost to the trash
    deleted: np.ndarray  # deleted for good
    restored: np.ndarray
    t_delete: np.ndarray  # INF = never
    t_restore: np.ndarray  # INF = never
    t_transfer: np.ndarray
    t_contract: np.ndarray


def trash(rng: np.random.Generator, params: SynthParams, deals: Arrivals, slots: Slots, end_ts: int) -> Trash:
    """Deleted deals (their later changes vanish) and restored ones (deleted in a quiet gap, then back)."""
    n_deals, created, robot = deals.count, deals.created, deals.robot
    every = np.arange(n_deals)
    deleted = ~robot & (rng.random(n_deals) < params.p_deleted)
    deleted = force_one(deleted, ~robot & deals.quirk_eligible)
    t_delete = np.where(deleted, created + uniform_ints(rng, 10 * MINUTE, 3 * DAY, n_deals), INF)
    t_restore = np.full(n_deals, INF, dtype=np.int64)
    slot_times = np.where(slots.times >= t_delete[:, None], -1, slots.times)
    # restored: a deal with a quiet gap of >= 2 days between two status changes
    times_sorted = np.sort(np.where(slot_times >= 0, slot_times, INF), axis=1)
    prev_t = np.concatenate([created[:, None], times_sorted[:, :-1]], axis=1)
    gaps = np.where(times_sorted < INF, times_sorted - prev_t, 0)
    gap_slot = np.argmax(gaps, axis=1)
    best_gap = gaps[every, gap_slot]
    can_restore = ~deleted & ~robot & (best_gap >= 2 * DAY) & deals.quirk_eligible
    can_restore &= times_sorted[every, gap_slot] <= end_ts
    restored = can_restore & (rng.random(n_deals) < params.p_restored)
    restored = force_one(restored, can_restore)
    gap_start = prev_t[every, gap_slot]
    restored_delete = gap_start + uniform_ints(rng, HOUR, 12 * HOUR, n_deals)
    restored_back = restored_delete + uniform_ints(rng, 2 * HOUR, 20 * HOUR, n_deals)
    t_delete = np.where(restored, restored_delete, t_delete)
    t_restore = np.where(restored, restored_back, t_restore)
    t_transfer = np.where(slots.t_transfer >= t_delete, -1, slots.t_transfer)
    t_transfer = np.where(restored & (slot_times[:, SLOT_TRANSFER] >= 0), slot_times[:, SLOT_TRANSFER], t_transfer)
    t_contract = np.where((slots.t_contract >= t_delete) & ~restored, -1, slots.t_contract)
    return Trash(slot_times, deleted, restored, t_delete, t_restore, t_transfer, t_contract)


@dataclass(frozen=True)
class Changes:
    """Every status change, sorted by deal then slot; plus each deal's status at creation."""

    deal: np.ndarray
    time: np.ndarray
    status: np.ndarray  # status id
    pipe: np.ndarray  # pipeline id
    user: np.ndarray
    init_status: np.ndarray  # per deal
    init_pipe: np.ndarray  # per deal

    def table(self, n_deals: int) -> dict[str, np.ndarray]:
        """The columns :class:`SynthAccount` keeps; ``start`` = each deal's first row."""
        start = np.searchsorted(self.deal, np.arange(n_deals)).astype(np.int64)
        return {
            "deal": self.deal, "time": self.time, "status": self.status, "pipe": self.pipe, "user": self.user,
            "start": start,
        }  # fmt: skip


def status_changes(cast: Cast, deals: Arrivals, slots: Slots, slot_times: np.ndarray) -> Changes:
    deal, slot = np.nonzero(slot_times >= 0)
    pipe_k = slots.pipe[deal, slot]
    init_slot = np.where(deals.mode == 0, S_UNSORTED, np.where(deals.mode == 1, S_NEW, S_BOOKED))
    init_pipe_k = np.where(deals.robot, OFFICE, deals.pipe0)
    return Changes(
        deal=deal,
        time=slot_times[deal, slot],
        status=cast.status_ids[pipe_k, slots.status[deal, slot]],
        pipe=cast.pipeline_ids[pipe_k],
        user=slots.user[deal, slot],
        init_status=cast.status_ids[init_pipe_k, init_slot],
        init_pipe=cast.pipeline_ids[init_pipe_k],
    )
