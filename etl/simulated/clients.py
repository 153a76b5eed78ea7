"""The deals' contacts: one per client, and returning clients whose second deal shares it (``rngs[7]``).

A returning client's second deal is created at least a day after their first deal closed, in the
same city; contacts carry names and phones (personal data: they stay in the raw export).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from etl.simulated.arrivals import Arrivals
from etl.simulated.params import DAY, INF, SynthParams
from etl.simulated.status_changes import SLOT_LOST, SLOT_REFUND, SLOT_WON, Trash
from etl.simulated.vocabulary import FIRST_NAMES, LAST_NAMES, PARENT_NAMES


@dataclass(frozen=True)
class Clients:
    contact_idx: np.ndarray  # per deal: its contact's index
    contact_ids: np.ndarray  # per contact
    is_new_contact: np.ndarray  # per deal: False for a returning client's second deal
    contacts: dict[str, Any]  # the columns :class:`SynthAccount` keeps


def _returning_pairs(
    rng: np.random.Generator, params: SynthParams, deals: Arrivals, binned: Trash, n_cities: int
) -> np.ndarray:
    """Per deal: the index of the same client's earlier deal, or -1."""
    n_deals, created, city, has_city = deals.count, deals.created, deals.city, deals.has_city
    slot_times = binned.slot_times
    valid = slot_times >= 0
    last_valid = np.where(valid.any(axis=1), slot_times.max(axis=1), -1)
    final_slot = np.where(valid.any(axis=1), np.argmax(np.where(valid, slot_times, -1), axis=1), -1)
    closed_final = np.where(np.isin(final_slot, (SLOT_WON, SLOT_LOST, SLOT_REFUND)), last_valid, INF)
    plain = has_city & ~binned.deleted & ~binned.restored
    second = plain & (rng.random(n_deals) < params.p_returning)
    first_of = np.full(n_deals, -1, dtype=np.int64)
    candidate = plain & (closed_final < INF)
    used = np.zeros(n_deals, dtype=bool)
    by_city: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    for city_index in range(n_cities):
        idx = np.nonzero(candidate & (city == city_index))[0]
        order = np.argsort(closed_final[idx], kind="stable")
        by_city[city_index] = (closed_final[idx][order], idx[order])

    def link(deal: int) -> bool:
        closes, idxs = by_city[int(city[deal])]
        closed_before = int(np.searchsorted(closes, created[deal] - DAY))
        for _ in range(4 if closed_before else 0):
            earlier = int(idxs[rng.integers(0, closed_before)])
            if not used[earlier] and not used[deal]:
                first_of[deal] = earlier
                used[earlier] = used[deal] = True
                return True
        return False

    linked = [link(deal) for deal in np.nonzero(second)[0].tolist()]
    if not any(linked):  # the quirk must show: link the first deal that can be linked
        for deal in np.nonzero(deals.quirk_eligible & plain)[0].tolist():
            if link(deal):
                break
    return first_of


def make_clients(
    rng: np.random.Generator, params: SynthParams, deals: Arrivals, binned: Trash, n_cities: int
) -> Clients:
    first_of = _returning_pairs(rng, params, deals, binned, n_cities)
    # contact of each deal: a new one, or the first deal's contact
    is_new_contact = first_of < 0
    contact_rank = np.cumsum(is_new_contact) - 1
    contact_idx = np.where(is_new_contact, contact_rank, 0)
    for deal in np.nonzero(~is_new_contact)[0].tolist():
        contact_idx[deal] = contact_idx[first_of[deal]]
    n_contacts = int(is_new_contact.sum())
    second_link = np.full(n_contacts, INF, dtype=np.int64)
    second_link[contact_idx[~is_new_contact]] = deals.created[~is_new_contact]
    contact_ids = 50_000_001 + np.arange(n_contacts, dtype=np.int64)
    contacts = {
        "id": contact_ids,
        "created": deals.created[is_new_contact],
        "link2": second_link,
        "resp": deals.resp0[is_new_contact],
        **_people(rng, n_contacts),
    }
    return Clients(contact_idx, contact_ids, is_new_contact, contacts)


def _people(rng: np.random.Generator, n_contacts: int) -> dict[str, list[str]]:
    """Names and phones: a parent (mother) for 30% of the contacts, a second (work) phone for 10%."""
    parent = rng.random(n_contacts) < 0.3
    first_i = rng.integers(0, len(FIRST_NAMES), n_contacts)
    parent_i = rng.integers(0, len(PARENT_NAMES), n_contacts)
    last_i = rng.integers(0, len(LAST_NAMES), n_contacts)
    digits = rng.integers(0, 10**9, n_contacts)
    has_second = rng.random(n_contacts) < 0.1
    digits2 = rng.integers(0, 10**7, n_contacts)
    firsts = [
        PARENT_NAMES[parent_name] if is_parent else FIRST_NAMES[first_name]
        for is_parent, parent_name, first_name in zip(parent.tolist(), parent_i.tolist(), first_i.tolist(), strict=True)
    ]
    lasts = [
        LAST_NAMES[last] + ("а" if is_parent else "")
        for is_parent, last in zip(parent.tolist(), last_i.tolist(), strict=True)
    ]
    phones = [f"+79{number:09d}" for number in digits.tolist()]
    phones2 = [
        f"+7495{number:07d}" if has else "" for number, has in zip(digits2.tolist(), has_second.tolist(), strict=True)
    ]
    return {"first": firsts, "last": lasts, "phone": phones, "phone2": phones2}
