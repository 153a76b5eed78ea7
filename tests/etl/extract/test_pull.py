"""The pull against the emulator over real loopback HTTP: exact, incremental, all-or-nothing.

What :mod:`etl.extract.collect` and :mod:`etl.extract.staging` promise: the raw export holds exactly
what the account serves, an incremental pull appends only changes, and a failure, a cancel or a
second pull into the same folder leaves the previous export as it was.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from datetime import UTC, datetime

import polars as pl
import pytest

from etl.extract import rawio
from etl.extract.amo_client import (
    AmoClient,
    AmoError,
    Cancelled,
    StaticToken,
)
from etl.extract.pull import pull
from etl.simulated.emulator import start_emulator
from etl.simulated.synth import generate_account
from tests.etl.extract.pull_helpers import COLLECTIONS, FAST, client_for, export_files, raw_latest, served


@pytest.fixture(scope="module")
def account():
    """A small synthetic account (300 deals a year: ~290 leads, ~5k events), fixed end."""
    return generate_account(
        seed=3, deals_per_year=300, years=1.0, end=datetime(2026, 6, 1, tzinfo=UTC), horizon_days=30
    )


def test_full_pull_reproduces_the_account_exactly(tmp_path, account):
    with start_emulator(account, rate_limit_per_s=FAST) as emu, client_for(emu) as client:
        result = pull(tmp_path, client, source="emulator")
        want = served(emu)
    got = raw_latest(tmp_path)
    for name in COLLECTIONS:
        assert got[name] == want[name], name  # same ids, same fields, same values
    assert json.loads((tmp_path / "account.json").read_text())["_embedded"]["datetime_settings"]["timezone"]
    export = json.loads((tmp_path / "export.json").read_text())
    assert export["source"] == "emulator"
    assert export["collections"]["leads"]["cursor"] == max(r["updated_at"] for r in want["leads"].values())
    assert export["collections"]["events"]["cursor"] == max(r["created_at"] for r in want["events"].values())
    # Requests: one per page; events at 100 a page, the rest at 250 (+1 for the trash pass, +1 per
    # collection whose size is an exact multiple of the page, whose last page is confirmed by a 204).
    minimum = sum(-(-len(want[n]) // (100 if n == "events" else 250)) for n in COLLECTIONS) + 1 + 1
    assert minimum <= result.requests <= minimum + len(COLLECTIONS) + 2
    assert result.status_429 == 0


def test_a_full_pull_asks_only_for_the_events_the_build_reads(tmp_path, account):
    """Call/SMS events (the notes endpoints have them) and task_added (tasks.jsonl has it) are
    left on the server; every type the build reads, and entity_responsible_changed (DATA.md §1),
    comes whole."""
    with start_emulator(account, rate_limit_per_s=FAST) as emu, client_for(emu) as client:
        pull(tmp_path, client)
        on_offer = Counter(r["type"] for r in emu.records("events"))
    lines = (tmp_path / "events.jsonl").read_text(encoding="utf-8").splitlines()
    pulled = Counter(json.loads(line)["type"] for line in lines)
    wanted = {*rawio.EVENT_TYPES, "entity_responsible_changed"}
    assert pulled == Counter({t: n for t, n in on_offer.items() if t in wanted})
    assert {"lead_status_changed", "task_completed", "lead_added"} <= set(pulled)
    assert not {"outgoing_call", "incoming_sms", "task_added"} & set(pulled)
    assert {"outgoing_call", "task_added"} <= set(on_offer)  # they were there to be left out


def test_incremental_pull_fetches_only_changes_and_builds_the_same_snapshot(tmp_path, account):
    from etl.config import load_config
    from etl.transform.build import build_snapshot

    inc, fresh = tmp_path / "inc", tmp_path / "fresh"
    with start_emulator(account, rate_limit_per_s=FAST) as emu, client_for(emu) as client:
        pull(inc / "raw", client, source="emulator")
        known = raw_latest(inc / "raw")
        before = {n: len((inc / "raw" / f"{n}.jsonl").read_text().splitlines()) for n in COLLECTIONS}
        emu.advance(86400)
        result = pull(inc / "raw", client, source="emulator")
        want = served(emu)
        # Exactly the records that are new or changed during the emulated day were appended, once each.
        for name in COLLECTIONS:
            appended = len((inc / "raw" / f"{name}.jsonl").read_text().splitlines()) - before[name]
            changed = [k for k, r in want[name].items() if known[name].get(k) != r]
            assert appended == len(changed), name
        assert len(want["events"]) > len(known["events"]) and want["leads"] != known["leads"]  # business happened
        # ... and fetching them cost about one request per page of changes, not a re-read of the account.
        new_events = len(want["events"]) - len(known["events"])
        assert result.collections["events"].requests <= -(-new_events // 100) + 1
        assert result.requests <= 20
        assert raw_latest(inc / "raw") == want
        with client_for(emu) as client2:
            pull(fresh / "raw", client2, source="emulator")
    config = load_config()
    a = build_snapshot(inc / "raw", config, inc)
    b = build_snapshot(fresh / "raw", config, fresh)
    for table in ("deals", "entries", "touches", "tasks", "users", "statuses"):
        ta, tb = pl.read_parquet(a / f"{table}.parquet"), pl.read_parquet(b / f"{table}.parquet")
        assert ta.sort(ta.columns).equals(tb.sort(tb.columns)), table


@pytest.mark.parametrize(
    ("faults", "kind", "words"),
    [
        ({"block": True}, "blocked", "IP заблокирован amoCRM (HTML 403)"),
        ({"unpaid": True}, "unpaid", "аккаунт не оплачен (402)"),
        ({"fail_after": 15, "error_status": 503}, "network", "amoCRM недоступен (сеть)"),
    ],
    ids=["blocked", "unpaid", "outage-mid-pull"],
)
def test_fatal_faults_end_with_a_clear_error_and_untouched_export(tmp_path, tiny, faults, kind, words):
    with start_emulator(tiny, rate_limit_per_s=FAST) as emu:
        with client_for(emu) as client:
            pull(tmp_path, client)
        previous = export_files(tmp_path)
        emu.advance(86400)
        emu.set_faults(**faults)
        with client_for(emu, max_retries=2) as client, pytest.raises(AmoError) as err:
            pull(tmp_path, client)
    assert err.value.kind == kind and words in err.value.message
    assert export_files(tmp_path) == previous  # cursors, records, account: all as before


def test_cancel_leaves_the_previous_export_untouched(tmp_path, tiny):
    with start_emulator(tiny, rate_limit_per_s=FAST) as emu:
        with client_for(emu) as client:
            pull(tmp_path, client)
        previous = export_files(tmp_path)
        emu.advance(3 * 86400)
        cancel = threading.Event()
        counter = {"n": 0}

        def stop_after_some() -> None:
            counter["n"] += 1
            if counter["n"] == 8:  # mid-pull, after users/pipelines/… and some leads
                cancel.set()

        with client_for(emu, cancel=cancel, on_request=stop_after_some) as client, pytest.raises(Cancelled):
            pull(tmp_path, client, page_size=10)
    assert export_files(tmp_path) == previous
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".pull-")]  # staging cleaned up


def test_reference_collections_append_only_changes(tmp_path, tiny):
    with start_emulator(tiny, rate_limit_per_s=FAST) as emu, client_for(emu) as client:
        pull(tmp_path, client)
        pull(tmp_path, client)
    assert len((tmp_path / "users.jsonl").read_text().splitlines()) == 3  # unchanged users not repeated
    assert len((tmp_path / "pipelines.jsonl").read_text().splitlines()) == 1


def test_pull_refuses_to_mix_two_accounts(tmp_path, tiny):
    with start_emulator(tiny, rate_limit_per_s=FAST) as emu, client_for(emu) as client:
        pull(tmp_path, client)
    other = tiny.as_of(tiny.end)
    other["account"] = {**other["account"], "id": 999}
    with start_emulator(other, rate_limit_per_s=FAST) as emu, client_for(emu) as client, pytest.raises(AmoError) as err:
        pull(tmp_path, client)
    assert err.value.kind == "data" and "другому аккаунту" in err.value.message


def test_users_forbidden_keeps_previous_users_and_goes_on(tmp_path, tiny):
    """A non-admin token gets 403 on /users (AMOCRM.md): the pull keeps the 3 users it had."""
    with start_emulator(tiny, rate_limit_per_s=FAST) as emu:
        with client_for(emu) as client:
            pull(tmp_path, client)
        emu.advance(86400)
        emu.set_faults(users_forbidden=True)
        with client_for(emu) as client:
            pull(tmp_path, client)
        want = served(emu)
    assert raw_latest(tmp_path) == want  # leads etc. moved on a day; users are the same 3


def test_two_pulls_into_one_folder_do_not_interleave(tmp_path):
    from etl.extract.pull import _exclusive

    client = AmoClient("http://127.0.0.1:9", StaticToken("unused"))  # never reached: the lock says no first
    with _exclusive(tmp_path), pytest.raises(AmoError) as err:
        pull(tmp_path, client)
    assert err.value.kind == "data" and "уже идёт другая выгрузка" in err.value.message
    assert client.stats.requests == 0
