"""``generate_account``: simulate every deal's whole life once, stage by stage, into flat arrays.

Twelve generators are spawned from the seed; each stage draws from its own (the cast 0, arrivals 1,
first contact 2, booking 3, consultations 4, contracts 5, status changes and the trash 6, clients
7, calls and SMS 8, tasks 9, events 10), always in the same order, so the account is identical for
the same seed and parameters.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import numpy as np

from etl.simulated.account import SynthAccount
from etl.simulated.arrivals import Arrivals, arrive_and_route
from etl.simulated.cast import CITY_FIELD_ID, PACKAGE_FIELD_ID, make_cast
from etl.simulated.clients import Clients, make_clients
from etl.simulated.event_log import make_events
from etl.simulated.journeys import Booking, Contracts, booking, consultations, contracts, first_contact
from etl.simulated.params import DAY, INF, SynthParams
from etl.simulated.status_changes import Changes, Trash, status_changes, status_slots, trash
from etl.simulated.tasks import make_tasks
from etl.simulated.timekit import iso, to_ts, utc
from etl.simulated.touches import make_notes


def generate_account(
    seed: int = 1,
    deals_per_year: int = 100_000,
    years: float = 1.0,
    end: datetime | None = None,
    horizon_days: int = 60,
    params: SynthParams | None = None,
) -> SynthAccount:
    """Simulate the whole account: deals created in [end − years, end + horizon_days) and their lives."""
    params = params or SynthParams()
    if end is None:
        end = datetime.now(UTC).replace(second=0, microsecond=0)
    end = utc(end)
    if deals_per_year < 0 or years <= 0 or horizon_days < 0:
        raise ValueError("deals_per_year must be >= 0, years > 0 and horizon_days >= 0")
    end_ts = to_ts(end)
    start_ts = end_ts - int(round(years * 365 * DAY))
    stop_ts = end_ts + horizon_days * DAY
    rngs = [np.random.default_rng(child) for child in np.random.SeedSequence(seed).spawn(12)]

    cast = make_cast(params, end, rngs[0])
    deals = arrive_and_route(rngs[1], params, cast, (start_ts, stop_ts, end_ts), deals_per_year)
    contact = first_contact(rngs[2], params, cast, deals)
    booked = booking(rngs[3], params, cast, deals, contact)
    cons = consultations(rngs[4], params, deals, booked)
    deal_contracts = contracts(rngs[5], params, deals, booked, cons, end_ts)
    slots = status_slots(rngs[6], deals, contact, booked, cons, deal_contracts)
    binned = trash(rngs[6], params, deals, slots, end_ts)
    changes = status_changes(cast, deals, slots, binned.slot_times)
    clients = make_clients(rngs[7], params, deals, binned, len(cast.city_names))
    deal_ids = 30_000_001 + np.arange(deals.count).astype(np.int64)
    notes = make_notes(rngs[8], params, deals, contact, booked, cons, deal_contracts, binned, clients, deal_ids, end_ts)
    tasks = make_tasks(rngs[9], params, deals, contact, booked, cons, deal_contracts, binned, deal_ids)
    events, n_unknown = make_events(
        rngs[10], params, cast, deals, booked, slots, binned, changes, notes, tasks, deal_ids, (start_ts, end_ts)
    )

    deal_table = _deal_table(
        deals, booked, deal_contracts, binned, changes, deal_ids, clients.contact_idx, clients.contact_ids
    )
    meta = {
        "seed": seed,
        "deals_per_year": deals_per_year,
        "years": years,
        "end": iso(end_ts),
        "horizon_days": horizon_days,
        "slow_manager_id": int(cast.team.ids[cast.team.slow]),
    }
    counts = _counts(deals, deal_contracts, binned, changes, clients, notes, tasks, events, n_unknown)
    return SynthAccount(
        start=datetime.fromtimestamp(start_ts, UTC),
        end=end,
        horizon_days=horizon_days,
        seed=seed,
        params=params,
        meta=meta,
        users=cast.team.records,
        pipelines=cast.pipelines,
        lead_fields=cast.lead_fields,
        status_ids=cast.status_ids,
        pipeline_ids=cast.pipeline_ids,
        user_ids=cast.team.ids,
        user_groups=cast.team.group,
        city_names=cast.city_names,
        city_enum_ids=cast.city_enum_ids,
        city_field_id=CITY_FIELD_ID,
        package_field_id=PACKAGE_FIELD_ID,
        package_enum_ids=cast.package_enum_ids,
        deals=deal_table,
        changes=changes.table(deals.count),
        contacts=clients.contacts,
        notes=notes,
        tasks=tasks,
        events=events,
        counts=counts,
    )


def _deal_table(
    deals: Arrivals, booked: Booking, deal_contracts: Contracts, binned: Trash, changes: Changes,
    deal_ids: np.ndarray, contact_idx: np.ndarray, contact_ids: np.ndarray,
) -> dict[str, np.ndarray]:  # fmt: skip
    """The per-deal columns :class:`SynthAccount` keeps (times INF where a step never happens)."""
    return {
        "id": deal_ids,
        "created": deals.created,
        "init_status": changes.init_status,
        "init_pipe": changes.init_pipe,
        "creator": deals.creator,
        "resp0": deals.resp0,
        "resp1": booked.resp1,
        "t_transfer": np.where(binned.t_transfer >= 0, binned.t_transfer, INF),
        "t_delete": binned.t_delete,
        "t_restore": binned.t_restore,
        "t_contract": np.where(binned.t_contract >= 0, binned.t_contract, INF),
        "price": deal_contracts.price,
        "package": deal_contracts.package,
        "city": deals.city,
        "has_city": deals.has_city,
        "contact_idx": contact_idx,
        "contact_id": contact_ids[contact_idx],
        "name_kind": deals.mode,
    }


def _counts(
    deals: Arrivals, deal_contracts: Contracts, binned: Trash, changes: Changes, clients: Clients,
    notes: dict[str, Any], tasks: dict[str, np.ndarray], events: dict[str, np.ndarray], n_unknown: int,
) -> dict[str, int]:  # fmt: skip
    """How many of each record and of each quirk (tests and the demo command report them)."""
    return {
        "deals": deals.count,
        "changes": len(changes.deal),
        "notes": len(notes["id"]),
        "tasks": len(tasks["id"]),
        "events": len(events["created"]),
        "unknown_lead_events": n_unknown,
        "deleted": int((binned.deleted & (binned.t_restore == INF)).sum()),
        "restored": int(binned.restored.sum()),
        "robot_booked": int(deals.robot.sum()),
        "no_city": int((~deals.has_city).sum()),
        "returning": int((~clients.is_new_contact).sum()),
        "refunded": int(deal_contracts.refund.sum()),
        "transferred": int((binned.t_transfer >= 0).sum()),
    }
