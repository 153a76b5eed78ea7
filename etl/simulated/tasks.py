"""Tasks the managers set along each journey, with deadlines and completion times (``rngs[9]``).

One task kind per step (call the client, call again, book, hold the consultation, re-book after a
no-show, prepare the contract, check the payment), completed around when the deal takes its next
step; a filler "call back" gives every deal at least two tasks, and some tasks stay open.
"""

from __future__ import annotations

import numpy as np

from etl.simulated.arrivals import Arrivals
from etl.simulated.journeys import Booking, Consultations, Contracts, FirstContact
from etl.simulated.params import DAY, HOUR, INF, MINUTE, SynthParams
from etl.simulated.status_changes import (
    SLOT_BOOKED,
    SLOT_CONTRACT,
    SLOT_LOST,
    SLOT_NOT_BOOKED,
    SLOT_OUTCOME1,
    SLOT_OUTCOME2,
    SLOT_PHONE,
    SLOT_REBOOKED,
    SLOT_WON,
    Trash,
)  # fmt: skip
from etl.simulated.timekit import uniform_ints
from etl.simulated.vocabulary import TASK_RESULTS

TaskSpec = tuple[int, np.ndarray, np.ndarray, np.ndarray, np.ndarray]  # kind, mask, created, deadline, completed


def _never_if_unset(ts: np.ndarray) -> np.ndarray:
    return np.where(ts >= 0, ts, INF)


def _task_specs(
    rng: np.random.Generator, deals: Arrivals, contact: FirstContact, booked: Booking, cons: Consultations,
    deal_contracts: Contracts, binned: Trash,
) -> list[TaskSpec]:  # fmt: skip
    """Per task kind: which deals get it, created when, due when, completed when (INF = not yet)."""
    n_deals, created, robot, done_at = deals.count, deals.created, deals.robot, _never_if_unset
    slot = {column: binned.slot_times[:, column] for column in range(binned.slot_times.shape[1])}
    t_lost, t_phone, t_nb = slot[SLOT_LOST], slot[SLOT_PHONE], slot[SLOT_NOT_BOOKED]
    t_book = np.where(robot, created, slot[SLOT_BOOKED])
    t_out1, t_rebook, t_won = slot[SLOT_OUTCOME1], slot[SLOT_REBOOKED], slot[SLOT_WON]
    t_att = np.where(cons.att1, slot[SLOT_OUTCOME1], np.where(cons.att2, slot[SLOT_OUTCOME2], -1))
    t_contract = slot[SLOT_CONTRACT]
    t_first = contact.t_first
    specs = [
        (0, np.ones(n_deals, bool), created + uniform_ints(rng, 5, 90, n_deals), created + 30 * MINUTE,
         np.where(robot, created + uniform_ints(rng, HOUR, DAY, n_deals), t_first)),
        (1, (contact.n_miss > 0) & ~contact.junk, t_first + uniform_ints(rng, MINUTE, 10 * MINUTE, n_deals), t_first + DAY,
         np.where(contact.reached, done_at(t_phone), done_at(t_lost))),
        (2, t_phone >= 0, t_phone + uniform_ints(rng, MINUTE, 5 * MINUTE, n_deals), t_phone + uniform_ints(rng, HOUR, 2 * DAY, n_deals),
         np.where(booked.booked, done_at(t_book), done_at(t_nb))),
        (3, cons.t_cons1 >= 0, np.maximum(t_book, binned.t_transfer) + uniform_ints(rng, MINUTE, 5 * MINUTE, n_deals),
         cons.t_cons1 + HOUR, done_at(t_out1)),
        (4, cons.ns1 & (t_out1 >= 0), t_out1 + uniform_ints(rng, MINUTE, 10 * MINUTE, n_deals), t_out1 + DAY,
         np.where(cons.rebook, done_at(t_rebook), done_at(t_lost))),
        (5, t_att >= 0, t_att + uniform_ints(rng, MINUTE, 10 * MINUTE, n_deals), t_att + 3 * DAY,
         np.where(deal_contracts.contract, done_at(t_contract), done_at(t_lost))),
        (6, t_contract >= 0, t_contract + uniform_ints(rng, MINUTE, 10 * MINUTE, n_deals), t_contract + 5 * DAY,
         done_at(t_won)),
    ]  # fmt: skip
    per_deal = sum(spec[1].astype(np.int64) for spec in specs)
    filler = per_deal < 2
    specs.append(
        (
            7,
            filler,
            created + uniform_ints(rng, HOUR, 2 * DAY, n_deals),
            created + 2 * DAY,
            created + uniform_ints(rng, 2 * HOUR, 3 * DAY, n_deals),
        )
    )
    too_many = (per_deal > 6) & (contact.n_miss > 0)
    specs[1] = (1, specs[1][1] & ~too_many, *specs[1][2:])
    return specs


def _task_rows(
    rng: np.random.Generator, params: SynthParams, deals: Arrivals, spec: TaskSpec
) -> tuple[np.ndarray, ...]:
    """One kind's tasks: deadlines on 5-minute marks in working hours, completion jittered ±20 min."""
    kind, mask, created_at, deadline_base, completed_at = spec
    deal = np.nonzero(mask)[0]
    created = created_at[deal]
    deadline = np.maximum(deadline_base[deal], created + 15 * MINUTE)
    deadline = deals.work_of(deadline, deal)
    deadline = (deadline // 300) * 300
    deadline = np.where(deadline < created, deals.work_of(created + 30 * MINUTE, deal) // 300 * 300 + 300, deadline)
    done = completed_at[deal]
    done = np.where(
        done < INF, np.maximum(done + uniform_ints(rng, -20 * MINUTE, 20 * MINUTE, len(deal)), created + MINUTE), INF
    )
    done = np.where(rng.random(len(deal)) < params.p_task_open, INF, done)
    ok = created >= deals.created[deal]  # anchors of steps the deal never took (or lost to the trash) are -1
    return deal[ok], created[ok], deadline[ok], done[ok], np.full(int(ok.sum()), kind)


def make_tasks(
    rng: np.random.Generator, params: SynthParams, deals: Arrivals, contact: FirstContact, booked: Booking,
    cons: Consultations, deal_contracts: Contracts, binned: Trash, deal_ids: np.ndarray,
) -> dict[str, np.ndarray]:  # fmt: skip
    """The tasks table, sorted by creation time; tasks created inside the trash are gone."""
    specs = _task_specs(rng, deals, contact, booked, cons, deal_contracts, binned)
    rows = [_task_rows(rng, params, deals, spec) for spec in specs]
    tk_deal = np.concatenate([row[0] for row in rows])
    tk_created, tk_deadline, tk_done, tk_kind = (
        np.concatenate([row[i] for row in rows]).astype(np.int64) for i in range(1, 5)
    )
    t_delete, t_restore = binned.t_delete[tk_deal], binned.t_restore[tk_deal]
    in_trash = (tk_created >= t_delete) & (tk_created < t_restore)
    tk_done = np.where((tk_done >= t_delete) & (tk_done < t_restore), INF, tk_done)
    order = np.lexsort((tk_kind, tk_deal, tk_created))
    order = order[~in_trash[order]]
    tk_deal, tk_created, tk_deadline, tk_done, tk_kind = (
        column[order] for column in (tk_deal, tk_created, tk_deadline, tk_done, tk_kind)
    )
    count = len(tk_deal)
    transferred_at = np.where(binned.t_transfer >= 0, binned.t_transfer, INF)[tk_deal]
    tk_user = np.where(tk_created >= transferred_at, booked.resp1[tk_deal], deals.resp0[tk_deal])
    tk_result = np.where(rng.random(count) < 0.7, rng.integers(0, len(TASK_RESULTS), count), -1)
    return {
        "id": 80_000_001 + np.arange(count, dtype=np.int64),
        "deal": tk_deal,
        "lead_id": deal_ids[tk_deal],
        "created": tk_created,
        "deadline": tk_deadline,
        "completed": tk_done,
        "kind": tk_kind,
        "user": tk_user,
        "result": tk_result,
    }
