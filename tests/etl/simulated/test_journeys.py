"""The synthetic amoCRM account: deterministic, API-shaped, plausible, with the quirks of real accounts.

Plausibility bounds are the DATA.md targets widened by about 5 points: with ~2 200 deals old enough
to have run their course, a binomial share has a standard error of 1–2.5 points, so the bounds hold
for other seeds too (checked on seeds 1–11), and they fail if a behaviour is switched off or broken.
"""

from __future__ import annotations

import statistics
from collections import Counter

from etl.config import STAGE_POSITION
from tests.etl.simulated.synth_cases import city_of, histories, old_leads, status_stage


def test_funnel_conversions_are_within_the_targets(view, config):
    stage = status_stage(view, config)
    hist = histories(view)
    reached = Counter()
    for lead in old_leads(view):
        top = max(STAGE_POSITION[stage[s]] or 0 for _, s in hist[lead["id"]])
        for pos in range(1, top + 1):
            reached[pos] += 1
    conv = {k: reached[k + 1] / reached[k] for k in range(1, 5)}
    assert reached[1] > 2000
    assert 0.55 <= conv[1] <= 0.80, conv  # lead → phone, target 60–75 %
    assert 0.35 <= conv[2] <= 0.60, conv  # phone → booked, target 40–55 %
    assert 0.55 <= conv[3] <= 0.80, conv  # booked → attended, target 60–75 % (re-bookings included)
    assert 0.25 <= conv[4] <= 0.50, conv  # attended → contract, target 30–45 %


def test_no_shows_rebook_and_contracts_close_won_or_refunded(view, config):
    stage = status_stage(view, config)
    hist = histories(view)
    no_show = rebooked = won = refunded = 0
    for lead in old_leads(view):
        stages = [stage[s] for _, s in hist[lead["id"]]]
        if "no_show" in stages:
            no_show += 1
            rebooked += "booked" in stages[stages.index("no_show") :]
        if "won" in stages:
            won += 1
            refunded += stages[-1] == "lost"
    assert 0.2 <= rebooked / no_show <= 0.47  # a third re-book
    assert won > 50 and 1 <= refunded <= 0.08 * won  # ~2 % refunded (at least one, forced)


def test_the_slow_manager_calls_back_later_and_books_fewer(account, view):
    """Office deals created straight into the office: time from creation to the first outgoing call."""
    office = next(p["id"] for p in view["pipelines"] if p["name"] == "Офис")
    hist = histories(view)
    contact_lead = {c["id"]: [x["id"] for x in c["_embedded"]["leads"]] for c in view["contacts"]}
    first_call: dict[int, int] = {}
    for note in view["lead_notes"] + view["contact_notes"]:
        if note["note_type"] != "call_out":
            continue
        ids = [note["entity_id"]] if note["_links"]["self"]["href"].split("/")[-4] == "leads" else []
        ids = ids or contact_lead.get(note["entity_id"], [])
        for lid in ids:
            first_call[lid] = min(first_call.get(lid, 1 << 62), note["created_at"])
    slow = account.meta["slow_manager_id"]
    booked_ids = {
        s["id"] for p in view["pipelines"] for s in p["_embedded"]["statuses"] if s["name"].startswith("Записан")
    }
    delays: dict[bool, list[int]] = {True: [], False: []}
    deals = Counter()
    booked = Counter()
    for lead in old_leads(view):
        if lead["pipeline_id"] != office or hist[lead["id"]][0][1][0] != office or city_of(lead) != "Москва":
            continue
        is_slow = lead["responsible_user_id"] == slow
        deals[is_slow] += 1
        booked[is_slow] += any(s in booked_ids for _, (_, s) in hist[lead["id"]])
        if lead["id"] in first_call:
            delays[is_slow].append(first_call[lead["id"]] - lead["created_at"])
    assert len(delays[True]) >= 20
    assert statistics.median(delays[True]) > 2 * statistics.median(delays[False])
    # ... and books markedly fewer: 0.6 x the odds at each step, 12 % vs 36 % on a 30k-deal account;
    # here he has only ~50 such deals (Poisson noise ~40 %), hence the loose factor
    assert booked[True] / deals[True] < 0.75 * booked[False] / deals[False], (booked, deals)
