"""Calls and SMS around each deal's journey, as amoCRM notes (``rngs[8]``).

A *touch* is (deal, time, kind, answered, SMS text template): kind 0 inbound call, 1 outbound
call, 2 inbound SMS, 3 outbound SMS; template -1 for calls.  Touches inside the trash or before the
deal existed are dropped; the rest become the notes table, sorted by time.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import numpy as np

from etl.simulated.arrivals import Arrivals
from etl.simulated.clients import Clients
from etl.simulated.journeys import Booking, Consultations, Contracts, FirstContact
from etl.simulated.params import DAY, HOUR, INF, MINUTE, SynthParams
from etl.simulated.status_changes import Trash
from etl.simulated.timekit import force_one, uniform_ints
from etl.simulated.vocabulary import SMS_REPLIES, SMS_TEMPLATES

CALL_IN, CALL_OUT, SMS_IN, SMS_OUT = range(4)


class TouchLog:
    """Collects touches in draw order; :meth:`spread` draws touch times within per-deal windows."""

    def __init__(self, rng: np.random.Generator, deals: Arrivals) -> None:
        self.rng = rng
        self.deals = deals
        self.parts: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []

    def add(
        self, deal: np.ndarray, ts: np.ndarray, kind: np.ndarray | int, answered: np.ndarray | bool,
        text: np.ndarray | int,
    ) -> None:  # fmt: skip
        size = len(deal)
        self.parts.append(
            (
                deal.astype(np.int64),
                ts.astype(np.int64),
                np.broadcast_to(np.asarray(kind, dtype=np.int64), (size,)).copy(),
                np.broadcast_to(np.asarray(answered, dtype=bool), (size,)).copy(),
                np.broadcast_to(np.asarray(text, dtype=np.int64), (size,)).copy(),
            )
        )

    def spread(
        self, mask: np.ndarray, counts: np.ndarray, low: np.ndarray, high: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """``counts`` touches per masked deal, uniform in [low, high) and moved into working hours."""
        counts = np.where(mask, counts, 0)
        deal = np.repeat(np.arange(self.deals.count), counts)
        ts = low[deal] + (self.rng.random(len(deal)) * np.maximum(high[deal] - low[deal], 60)).astype(np.int64)
        return deal, self.deals.work_of(ts, deal)

    def columns(self) -> list[np.ndarray]:
        return [np.concatenate([part[i] for part in self.parts]) for i in range(5)]


def _first_contact_touches(log: TouchLog, params: SynthParams, deals: Arrivals, contact: FirstContact) -> None:
    rng, n_deals = log.rng, deals.count
    # unanswered first-contact attempts, then the answered call that got the number
    log.add(contact.miss_deal, contact.miss_t, CALL_OUT, False, -1)
    deal = np.nonzero(contact.reached & ~deals.robot & (contact.t_phone >= 0))[0]
    log.add(deal, contact.t_phone[deal], np.where(contact.phone_in[deal], CALL_IN, CALL_OUT), True, -1)
    # welcome SMS from the robot, "could not reach you" SMS
    deal = np.nonzero(rng.random(n_deals) < params.p_welcome_sms)[0]
    log.add(deal, deals.created[deal] + uniform_ints(rng, 30, 180, len(deal)), SMS_OUT, False, 0)
    missed = contact.unreached & ~contact.junk & (rng.random(n_deals) < 0.8) & (contact.second_miss >= 0)
    deal = np.nonzero(missed)[0]
    log.add(deal, contact.second_miss[deal] + uniform_ints(rng, 60, 600, len(deal)), SMS_OUT, False, 1)


def _booking_touches(
    log: TouchLog, deals: Arrivals, contact: FirstContact, booked: Booking, cons: Consultations
) -> None:
    rng, n_deals, t_phone = log.rng, deals.count, contact.t_phone
    # talks between getting the number and the booking decision
    decision = np.where(booked.booked, booked.t_book, np.where(booked.not_booked, booked.t_nb, t_phone))
    deal, ts = log.spread(
        contact.reached & ~deals.robot, rng.poisson(1.2, n_deals), t_phone, np.maximum(decision, t_phone + 2 * DAY)
    )
    log.add(deal, ts, np.where(rng.random(len(deal)) < 0.75, CALL_OUT, CALL_IN), rng.random(len(deal)) < 0.8, -1)
    # booking confirmation, reminder SMS the day before, reminder call on the day
    for t_booked, t_cons in ((booked.t_book, cons.t_cons1), (cons.t_rebook, cons.t_cons2)):
        has_slot = t_cons >= 0
        deal = np.nonzero(has_slot)[0]
        log.add(deal, t_booked[deal] + uniform_ints(rng, 2 * MINUTE, 10 * MINUTE, len(deal)), SMS_OUT, False, 2)
        reminder = t_cons - DAY + uniform_ints(rng, -3 * HOUR, 3 * HOUR, n_deals)
        deal = np.nonzero(has_slot & (reminder > t_booked + HOUR))[0]
        log.add(deal, reminder[deal], SMS_OUT, False, 3)
        replied = deal[rng.random(len(deal)) < 0.3]
        log.add(replied, reminder[replied] + uniform_ints(rng, 2 * MINUTE, 3 * HOUR, len(replied)), SMS_IN, False, 4)
        deal = np.nonzero(has_slot & (rng.random(n_deals) < 0.5))[0]
        log.add(
            deal, t_cons[deal] - uniform_ints(rng, HOUR, 3 * HOUR, len(deal)), CALL_OUT, rng.random(len(deal)) < 0.8, -1
        )


def _later_touches(
    log: TouchLog, deals: Arrivals, contact: FirstContact, cons: Consultations, deal_contracts: Contracts,
    binned: Trash,
) -> None:  # fmt: skip
    rng, n_deals, created = log.rng, deals.count, deals.created
    t_lost, t_att = deal_contracts.t_lost, cons.t_att
    # the office manager introduces themself after a transfer
    deal = np.nonzero(binned.t_transfer >= 0)[0]
    log.add(
        deal,
        deals.work_of(binned.t_transfer[deal] + uniform_ints(rng, 10 * MINUTE, DAY, len(deal)), deal),
        CALL_OUT,
        rng.random(len(deal)) < 0.7,
        -1,
    )
    # after a no-show: calls to re-book or close
    deal, ts = log.spread(cons.ns1, rng.integers(1, 4, n_deals), cons.t_out1, cons.t_out1 + 3 * DAY)
    log.add(deal, ts, CALL_OUT, rng.random(len(deal)) < 0.55, -1)
    # after the consultation: follow-up calls
    no_contract_end = np.where(
        deal_contracts.contract, binned.t_contract, np.where(t_lost >= 0, t_lost, t_att + 14 * DAY)
    )
    deal, ts = log.spread(cons.attended, rng.integers(1, 4, n_deals), t_att, np.maximum(no_contract_end, t_att + HOUR))
    log.add(deal, ts, np.where(rng.random(len(deal)) < 0.7, CALL_OUT, CALL_IN), rng.random(len(deal)) < 0.85, -1)
    # inbound calls and SMS at any time of a reached deal's life
    life_end = np.where(
        t_lost >= 0, t_lost, np.where(deal_contracts.t_won >= 0, deal_contracts.t_won, created + 20 * DAY)
    )
    life_end = np.maximum(life_end, created + HOUR)
    deal, ts = log.spread(contact.reached, rng.poisson(0.6, n_deals), created, life_end)
    log.add(deal, ts, CALL_IN, rng.random(len(deal)) < 0.8, -1)
    deal, ts = log.spread(contact.reached, rng.poisson(0.25, n_deals), created, life_end)
    log.add(deal, ts, SMS_IN, False, 4)


def make_notes(
    rng: np.random.Generator, params: SynthParams, deals: Arrivals, contact: FirstContact, booked: Booking,
    cons: Consultations, deal_contracts: Contracts, binned: Trash, clients: Clients, deal_ids: np.ndarray,
    end_ts: int,
) -> dict[str, Any]:  # fmt: skip
    """The notes table (calls and SMS), sorted by time, with the call details drawn per note."""
    log = TouchLog(rng, deals)
    _first_contact_touches(log, params, deals, contact)
    _booking_touches(log, deals, contact, booked, cons)
    _later_touches(log, deals, contact, cons, deal_contracts, binned)
    t_deal, t_time, t_kind, t_ans, t_text = log.columns()
    keep = ~((t_time >= binned.t_delete[t_deal]) & (t_time < binned.t_restore[t_deal]))
    keep &= t_time >= deals.created[t_deal]
    order = np.lexsort((t_deal, t_time))
    order = order[keep[order]]
    t_deal, t_time, t_kind, t_ans, t_text = (column[order] for column in (t_deal, t_time, t_kind, t_ans, t_text))
    count = len(t_deal)
    is_call = t_kind < 2
    t_ans &= is_call
    duration = np.where(t_ans, np.clip(rng.lognormal(np.log(params.answered_median_s), 0.7, count), 60, 900), 0)
    duration = duration.astype(np.int64)
    call_status = np.where(
        t_ans, 4, np.where(t_kind == 1, rng.choice([6, 7, 3], count, p=[0.6, 0.25, 0.15]), np.where(t_kind == 0, 2, 0))
    )
    on_contact = is_call & (rng.random(count) < params.p_call_on_contact)
    dur_str = is_call & (rng.random(count) < params.p_duration_str)
    dur_str = force_one(dur_str, is_call & (t_time <= end_ts))
    on_contact = force_one(on_contact, is_call & (t_time <= end_ts))
    after_transfer = t_time >= np.where(binned.t_transfer >= 0, binned.t_transfer, INF)[t_deal]
    note_user = np.where(after_transfer, booked.resp1[t_deal], deals.resp0[t_deal])
    note_by = np.where(t_text >= 0, -1, note_user)  # SMS go out through the SMS robot; replies have no user
    note_contact = clients.contact_idx[t_deal]
    return {
        "id": 60_000_001 + np.arange(count, dtype=np.int64),
        "created": t_time,
        "kind": t_kind,
        "on_contact": on_contact,
        "entity": np.where(on_contact, clients.contact_ids[note_contact], deal_ids[t_deal]),
        "deal": t_deal,
        "user": note_user,
        "by": note_by,
        "duration": duration,
        "dur_str": dur_str,
        "call_status": call_status,
        "contact_idx": note_contact,
        "phone": clients.contacts["phone"],
        "text": sms_texts(t_text, t_time, t_deal, cons, deals.offset),
    }


def sms_texts(text: np.ndarray, ts: np.ndarray, deal: np.ndarray, cons: Consultations, offset: np.ndarray) -> list[str]:
    """Message texts (they stay in the raw export only: they are personal data)."""
    out = [""] * len(text)
    text_l, ts_l, deal_l = text.tolist(), ts.tolist(), deal.tolist()
    for i, template in enumerate(text_l):
        if template < 0:
            continue
        if template in (2, 3):
            deal_index = deal_l[i]
            second = int(cons.t_cons2[deal_index])
            rebooked = int(cons.t_rebook[deal_index])
            when = second if second >= 0 and ts_l[i] >= rebooked >= 0 else int(cons.t_cons1[deal_index])
            local = datetime.fromtimestamp(when + int(offset[deal_index]), UTC)
            out[i] = SMS_TEMPLATES[template].format(when=local.strftime("%d.%m в %H:%M"))
        elif template == 4:
            out[i] = SMS_REPLIES[(ts_l[i] // 7) % len(SMS_REPLIES)]
        else:
            out[i] = SMS_TEMPLATES[template]
    return out
