"""The derived columns a build may precompute (etl.transform.facts), checked by hand on the two
accounts of conftest.py.  (Every metric test also runs on snapshots with and without them.)"""

from __future__ import annotations

from datetime import date

import polars as pl

from etl.transform.facts import DEAL_COLS, add_derived
from tests.report.metrics.metric_snapshots import (
    MARCH,
    MARCH_USERS,
    TASKS,
    TOUCH_DEALS,
    TOUCH_USERS,
    TOUCHES,
    build_tables,
    t,
)


def test_entries_next_at_and_deal_facts():
    """#2: created → booked 03-03 11:00 → no_show 03-04 12:00 → booked 03-10 12:00 → lost; so its
    first booking is 03-03 11:00 and the re-booking 03-10 12:00.  #4: no_answer 03-11 09:00 → lost
    03-12 09:00 straight from no_answer."""
    tables = add_derived(build_tables(MARCH, users=MARCH_USERS))
    e = tables["entries"].filter(pl.col("deal_id") == 2).sort("seq")
    assert e["next_at"].to_list() == [*e["at"].to_list()[1:], None]
    d = {r["deal_id"]: r for r in tables["deals"].to_dicts()}
    assert d[2]["first_booked_at"] == t("2026-03-03 11:00") and d[2]["rebooked_at"] == t("2026-03-10 12:00")
    assert d[4]["first_no_answer_at"] == t("2026-03-11 09:00")
    assert d[4]["lost_from_no_answer_at"] == t("2026-03-12 09:00")
    assert d[10]["lost_from_no_answer_at"] is None  # lost from attended
    assert d[1]["n_touches"] == 0 and d[1]["first_out_at"] is None
    assert tables["deals"].columns[-len(DEAL_COLS) - 4 : -4] == list(DEAL_COLS)
    assert tables["entries"]["at"].is_sorted()  # row order kept
    # its booking of 03-03 is its first into booked, the one of 03-10 a repeat
    firsts = {(r["stage"], r["at"]): r["first_stage_entry"] for r in e.to_dicts()}
    assert firsts["booked", t("2026-03-03 11:00")] and not firsts["booked", t("2026-03-10 12:00")]
    assert firsts["no_show", t("2026-03-04 12:00")]


def test_touches_prev_at_and_deal_counts():
    """#22 got t5 (10:06) then t6 (10:20); unattributed t7 has no previous touch.  #21: 4 touches,
    3 calls, 1 SMS; its first outgoing touch at or after creation is t2 (t1 came 5 minutes before)."""
    tables = add_derived(build_tables(TOUCH_DEALS, TOUCHES, TASKS, TOUCH_USERS))
    tt = {r["touch_id"]: r for r in tables["touches"].to_dicts()}
    assert tt[6]["prev_at"] == t("2026-03-10 10:06") and tt[5]["prev_at"] is None
    assert tt[7]["prev_at"] is None
    d = {r["deal_id"]: r for r in tables["deals"].to_dicts()}
    assert (d[21]["n_touches"], d[21]["n_calls"], d[21]["n_sms"]) == (4, 3, 1)
    assert d[21]["first_out_at"] == t("2026-03-02 10:30")
    assert d[23]["n_touches"] == 0


def test_touch_counts_at_entries_and_before_contract():
    """#21 lost 03-10 10:00 with t1-t4 at or before it (3 calls, 1 SMS; t5 went to #22); at its no_show
    entry (03-05 10:00) t1 t2 t3 came strictly before.  #22 reached contract 03-20 with t5 t6 before;
    #23 never reached contract: empty, not 0."""
    tables = add_derived(build_tables(TOUCH_DEALS, TOUCHES, TASKS, TOUCH_USERS))
    e = {(r["deal_id"], r["stage"]): r for r in tables["entries"].to_dicts()}
    lost = e[(21, "lost")]
    assert (lost["touches_upto"], lost["calls_upto"], lost["sms_upto"]) == (4, 3, 1)
    no_show = e[(21, "no_show")]
    assert (no_show["touches_before"], no_show["calls_before"], no_show["sms_before"]) == (3, 2, 1)
    assert e[(23, "lead")]["touches_upto"] == 0
    d = {r["deal_id"]: r for r in tables["deals"].to_dicts()}
    assert (d[22]["touches_before_contract"], d[22]["calls_before_contract"], d[22]["sms_before_contract"]) == (2, 2, 0)
    assert d[23]["touches_before_contract"] is None


def test_tasks_completed_day_in_the_users_zone():
    """Vera (Новосибирск, +4 h from Moscow) completed K9 at 23:00 on the 10th and K10 at 01:00 on the
    11th, local time; Anna (Moscow) completed K1 on 03-03."""
    tables = add_derived(build_tables(TOUCH_DEALS, TOUCHES, TASKS, TOUCH_USERS))
    day = dict(zip(tables["tasks"]["task_id"], tables["tasks"]["completed_day"], strict=True))
    assert day[9] == date(2026, 3, 10) and day[10] == date(2026, 3, 11) and day[1] == date(2026, 3, 3)
    assert day[3] is None  # still open


def test_answered_call_totals_and_last_entry_per_deal():
    """#21 got t1 (missed call before its creation), t2 (SMS), t3 (call_in, 120 s), t4 (call_out,
    60 s): 2 answered calls, 180 s. #25: t10 (40 s), t11 (SMS), t14 (80 s): 2 calls, 120 s. #26's
    two calls were missed: 0, 0 s. #21's last entry is its loss of 03-10 10:00; #24 never moved,
    so its last entry is its creation."""
    tables = add_derived(build_tables(TOUCH_DEALS, TOUCHES, TASKS, TOUCH_USERS))
    d = {r["deal_id"]: r for r in tables["deals"].to_dicts()}
    assert (d[21]["n_answered"], d[21]["answered_s"]) == (2, 180)
    assert (d[25]["n_answered"], d[25]["answered_s"]) == (2, 120)
    assert (d[26]["n_answered"], d[26]["answered_s"]) == (0, 0)
    assert (d[23]["n_answered"], d[23]["answered_s"]) == (0, 0)  # no touches at all
    assert (d[21]["last_entry_at"], d[21]["last_stage"]) == (t("2026-03-10 10:00"), "lost")
    assert (d[24]["last_entry_at"], d[24]["last_stage"]) == (t("2026-03-06 10:00"), "lead")
    e21 = tables["entries"].filter(pl.col("deal_id") == 21).sort("seq").row(-1, named=True)
    assert (d[21]["last_pipeline_id"], d[21]["last_status_id"]) == (e21["pipeline_id"], e21["status_id"])


def test_bookings_before_contract():
    """#1 was booked 03-03 10:00, moved to the contact centre's booked status 03-04 (same stage: not
    a new booking) and reached contract 03-06: 1. #22 reached contract without a booking: 0. #21
    never reached contract: empty."""
    march = add_derived(build_tables(MARCH, users=MARCH_USERS))["deals"]
    assert dict(zip(march["deal_id"], march["bookings_before_contract"], strict=True))[1] == 1
    d = {
        r["deal_id"]: r for r in add_derived(build_tables(TOUCH_DEALS, TOUCHES, TASKS, TOUCH_USERS))["deals"].to_dicts()
    }
    assert d[22]["bookings_before_contract"] == 0 and d[21]["bookings_before_contract"] is None
