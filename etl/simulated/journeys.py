"""The deal journeys: first contact, booking, consultations and contracts, one stage each.

Each stage draws from its own generator (``rngs[2]`` … ``rngs[5]``) in a fixed order, so changing
one stage's logic does not reshuffle the others.  Times are -1 where a deal never takes a step;
``t_lost`` is carried from stage to stage (each stage may close more deals as lost).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from etl.simulated.arrivals import Arrivals
from etl.simulated.cast import Cast
from etl.simulated.params import DAY, HOUR, MINUTE, OFFICE, SynthParams
from etl.simulated.timekit import force_one, schedule_consultation, uniform_ints


@dataclass(frozen=True)
class FirstContact:
    t_first: np.ndarray  # the first call attempt
    reached: np.ndarray
    unreached: np.ndarray
    junk: np.ndarray  # wrong numbers / spam among the unreached
    n_miss: np.ndarray  # unanswered attempts per deal
    miss_deal: np.ndarray  # one entry per unanswered attempt: its deal ...
    miss_t: np.ndarray  # ... and its time
    second_miss: np.ndarray
    t_phone: np.ndarray  # the call that got the number
    t_na: np.ndarray  # moved to "no answer"
    t_accept: np.ndarray  # accepted out of "unsorted"
    t_lost: np.ndarray
    phone_in: np.ndarray  # the client called back (the answered call is inbound)


def first_contact(rng: np.random.Generator, params: SynthParams, cast: Cast, deals: Arrivals) -> FirstContact:
    n_deals, created, robot = deals.count, deals.created, deals.robot
    speed = cast.team.speed[deals.resp0]
    delay = np.clip(rng.lognormal(np.log(params.first_call_median_min * MINUTE * speed), 1.0), 60, 2 * DAY)
    t_first = deals.work(deals.work(created) + delay.astype(np.int64))
    reached = robot | (rng.random(n_deals) < np.clip(params.p_phone * deals.conv0, 0, 0.98))
    unreached = ~reached
    junk = unreached & (rng.random(n_deals) < params.p_junk)
    n_miss = np.where(reached & ~robot, rng.choice(4, n_deals, p=[0.55, 0.25, 0.12, 0.08]), 0)
    n_miss = np.where(unreached, np.where(junk, rng.integers(1, 3, n_deals), rng.integers(3, 6, n_deals)), n_miss)
    gap = np.where(
        unreached & ~junk,
        uniform_ints(rng, 0.5 * DAY, 2.5 * DAY, n_deals),
        np.where(junk, uniform_ints(rng, HOUR, 4 * HOUR, n_deals), uniform_ints(rng, HOUR, DAY, n_deals)),
    )
    # unanswered attempts: deal index repeated, attempt number
    miss_deal = np.repeat(np.arange(n_deals), n_miss)
    attempt = np.arange(len(miss_deal)) - np.repeat(np.cumsum(n_miss) - n_miss, n_miss)
    miss_t = deals.work_of(t_first[miss_deal] + attempt * gap[miss_deal], miss_deal)
    second_miss = np.full(n_deals, -1, dtype=np.int64)
    second = attempt == 1
    second_miss[miss_deal[second]] = miss_t[second]
    last_miss = np.full(n_deals, -1, dtype=np.int64)
    has_miss = n_miss > 0
    last_miss[has_miss] = miss_t[(np.cumsum(n_miss) - 1)[has_miss]]  # each deal's attempts are contiguous
    t_phone = np.where(
        reached & ~robot,
        deals.work(t_first + n_miss * gap + np.where(n_miss > 0, uniform_ints(rng, 0, 1800, n_deals), 0)),
        -1,
    )
    t_na = np.where((second_miss >= 0) & ~junk, second_miss + uniform_ints(rng, 5 * MINUTE, 30 * MINUTE, n_deals), -1)
    t_accept = np.where(
        deals.mode == 0, np.maximum(created + 30, t_first - uniform_ints(rng, MINUTE, 5 * MINUTE, n_deals)), -1
    )
    t_lost = np.full(n_deals, -1, dtype=np.int64)
    lost_delay = np.where(
        junk, uniform_ints(rng, 10 * MINUTE, 6 * HOUR, n_deals), uniform_ints(rng, HOUR, DAY, n_deals)
    )
    t_lost = np.where(unreached, deals.work(last_miss + lost_delay), t_lost)
    phone_in = reached & ~robot & (rng.random(n_deals) < 0.15)  # the client called back
    return FirstContact(
        t_first, reached, unreached, junk, n_miss, miss_deal, miss_t, second_miss, t_phone, t_na, t_accept,
        t_lost, phone_in,
    )  # fmt: skip


@dataclass(frozen=True)
class Booking:
    booked: np.ndarray
    not_booked: np.ndarray
    t_book: np.ndarray
    t_book_slot: np.ndarray  # t_book, but -1 for robot deals (created booked: no change event)
    t_nb: np.ndarray  # moved to "not booked"
    t_transfer: np.ndarray  # handed from the contact centre to the city office
    resp1: np.ndarray  # the responsible user after the transfer (else resp0)
    pipe_cur: np.ndarray  # the pipeline after the transfer
    conv1: np.ndarray  # conversion factor of resp1 and the city
    t_lost: np.ndarray


def booking(
    rng: np.random.Generator, params: SynthParams, cast: Cast, deals: Arrivals, contact: FirstContact
) -> Booking:
    n_deals, robot, t_phone = deals.count, deals.robot, contact.t_phone
    booked = robot | (contact.reached & (rng.random(n_deals) < np.clip(params.p_book * deals.conv0, 0, 0.98)))
    not_booked = contact.reached & ~booked
    same_call = rng.random(n_deals) < 0.5
    later = np.where(
        same_call,
        t_phone + uniform_ints(rng, 2 * MINUTE, 15 * MINUTE, n_deals),
        deals.work(t_phone + uniform_ints(rng, 2 * HOUR, 4 * DAY, n_deals)),
    )
    t_book = np.where(robot, deals.created, np.where(booked, later, -1))
    t_book_slot = np.where(robot, -1, t_book)
    t_nb = np.where(not_booked, deals.work(t_phone + uniform_ints(rng, 5 * MINUTE, 3 * DAY, n_deals)), -1)
    lost_nb = not_booked & (rng.random(n_deals) < params.p_lost_not_booked)
    t_lost = np.where(lost_nb, deals.work(t_nb + uniform_ints(rng, DAY, 21 * DAY, n_deals)), contact.t_lost)
    transfer = booked & deals.start_cc & deals.has_city & (rng.random(n_deals) >= params.cc_keep_booked_share)
    t_transfer = np.where(transfer, deals.work(t_book + uniform_ints(rng, MINUTE, 3 * HOUR, n_deals)), -1)
    resp1 = np.where(transfer, deals.city_pick, deals.resp0)
    pipe_cur = np.where(transfer, OFFICE, deals.pipe0)
    conv1 = cast.team.conv[resp1] * cast.city_conv[deals.city]
    return Booking(booked, not_booked, t_book, t_book_slot, t_nb, t_transfer, resp1, pipe_cur, conv1, t_lost)


@dataclass(frozen=True)
class Consultations:
    t_cons1: np.ndarray  # the first consultation slot
    att1: np.ndarray  # attended the first
    ns1: np.ndarray  # did not show up at the first
    t_out1: np.ndarray  # the first consultation's outcome recorded
    rebook: np.ndarray
    t_rebook: np.ndarray
    t_cons2: np.ndarray
    att2: np.ndarray
    t_out2: np.ndarray
    attended: np.ndarray
    t_att: np.ndarray  # the outcome of the attended consultation
    t_lost: np.ndarray


def _outcome(
    rng: np.random.Generator, attended: np.ndarray, no_show: np.ndarray, t_cons: np.ndarray, n_deals: int
) -> np.ndarray:
    """When a consultation's outcome is recorded: after the talk, or a while after a no-show."""
    return np.where(
        attended,
        t_cons + uniform_ints(rng, 30 * MINUTE, 90 * MINUTE, n_deals),
        np.where(no_show, t_cons + uniform_ints(rng, 30 * MINUTE, 4 * HOUR, n_deals), -1),
    )


def consultations(rng: np.random.Generator, params: SynthParams, deals: Arrivals, booked: Booking) -> Consultations:
    n_deals, offset = deals.count, deals.offset
    base = np.maximum(booked.t_book, booked.t_transfer)
    t_cons1 = np.where(booked.booked, schedule_consultation(rng, base, offset, 1, 7), -1)
    p_attend = np.clip(params.p_attend * booked.conv1, 0, 0.98)
    att1 = booked.booked & (rng.random(n_deals) < p_attend)
    ns1 = booked.booked & ~att1
    t_out1 = _outcome(rng, att1, ns1, t_cons1, n_deals)
    rebook = ns1 & (rng.random(n_deals) < params.p_rebook)
    t_rebook = np.where(rebook, deals.work(t_out1 + uniform_ints(rng, 2 * HOUR, 5 * DAY, n_deals)), -1)
    t_cons2 = np.where(rebook, schedule_consultation(rng, t_rebook, offset, 1, 7), -1)
    att2 = rebook & (rng.random(n_deals) < p_attend)
    ns2 = rebook & ~att2
    t_out2 = _outcome(rng, att2, ns2, t_cons2, n_deals)
    attended = att1 | att2
    t_att = np.where(att1, t_out1, np.where(att2, t_out2, -1))
    final_ns = (ns1 & ~rebook) | ns2
    t_last_ns = np.where(ns2, t_out2, t_out1)
    lost_ns = final_ns & (rng.random(n_deals) < params.p_lost_no_show)
    t_lost = np.where(lost_ns, deals.work(t_last_ns + uniform_ints(rng, DAY, 14 * DAY, n_deals)), booked.t_lost)
    return Consultations(t_cons1, att1, ns1, t_out1, rebook, t_rebook, t_cons2, att2, t_out2, attended, t_att, t_lost)


@dataclass(frozen=True)
class Contracts:
    contract: np.ndarray
    t_contract: np.ndarray
    t_won: np.ndarray  # paid: "Успешно реализовано"
    refund: np.ndarray
    t_refund: np.ndarray  # refunded: a won deal moves to lost
    package: np.ndarray
    price: np.ndarray
    t_lost: np.ndarray


def contracts(
    rng: np.random.Generator, params: SynthParams, deals: Arrivals, booked: Booking, cons: Consultations, end_ts: int
) -> Contracts:
    n_deals, t_att = deals.count, cons.t_att
    contract = cons.attended & (rng.random(n_deals) < np.clip(params.p_contract * booked.conv1, 0, 0.98))
    same_day = rng.random(n_deals) < 0.4
    signed = np.where(
        same_day,
        t_att + uniform_ints(rng, 5 * MINUTE, 2 * HOUR, n_deals),
        deals.work(t_att + uniform_ints(rng, DAY, 14 * DAY, n_deals)),
    )
    t_contract = np.where(contract, signed, -1)
    lost_nc = cons.attended & ~contract & (rng.random(n_deals) < params.p_lost_no_contract)
    t_lost = np.where(lost_nc, deals.work(t_att + uniform_ints(rng, 2 * DAY, 30 * DAY, n_deals)), cons.t_lost)
    t_won = np.where(contract, deals.work(t_contract + uniform_ints(rng, HOUR, 10 * DAY, n_deals)), -1)
    refund = contract & (rng.random(n_deals) < params.p_refund)
    refund = force_one(refund, contract & (t_won + 20 * DAY <= end_ts))
    t_refund = np.where(refund, deals.work(t_won + uniform_ints(rng, 20 * DAY, 150 * DAY, n_deals)), -1)
    t_refund = np.where(
        refund & (t_won + 20 * DAY <= end_ts), np.minimum(t_refund, np.maximum(end_ts - HOUR, t_won + DAY)), t_refund
    )
    weights = np.asarray(params.package_weights) / sum(params.package_weights)
    package = rng.choice(len(params.packages), n_deals, p=weights)
    discount = rng.choice([0.0, 0.05, 0.1], n_deals, p=[0.75, 0.15, 0.1])
    list_price = np.array([price for _, price in params.packages], dtype=float)[package]
    price = (np.round(list_price * (1 - discount) / 500) * 500).astype(np.int64)
    return Contracts(contract, t_contract, t_won, refund, t_refund, package, price, t_lost)
