"""The pull client against the emulator over real loopback HTTP: exact, incremental, paced, robust.

Most tests run emulator and client at 50 requests/s (the emulator's limit set to match) to stay
fast; ``test_never_more_than_7_requests_in_any_second`` runs both at amoCRM's real 7/s.
"""

from __future__ import annotations

import json
import secrets
import socket
import stat
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import requests

from etl.config import REPO_ROOT
from etl.extract.amo_client import (
    AmoClient,
    AmoError,
    Cancelled,
    OAuthSettings,
    OAuthTokens,
    StaticToken,
    exchange_code,
    write_token_file,
)
from etl.extract.pull import pull
from etl.simulated.emulator import sliding_window_max, start_emulator
from etl.simulated.synth import generate_account

FAST = 100.0
COLLECTIONS = (
    "users",
    "pipelines",
    "lead_fields",
    "leads",
    "contacts",
    "events",
    "lead_notes",
    "contact_notes",
    "tasks",
)


@pytest.fixture(scope="module")
def account():
    """A small synthetic account (300 deals a year: ~290 leads, ~5k events), fixed end."""
    return generate_account(
        seed=3, deals_per_year=300, years=1.0, end=datetime(2026, 6, 1, tzinfo=UTC), horizon_days=30
    )


def client_for(emu, rate: float = FAST, **kw: Any) -> AmoClient:
    kw.setdefault("backoff_base_s", 0.01)
    kw.setdefault("timeout_s", 5)
    return AmoClient(emu.url, kw.pop("tokens", None) or StaticToken(emu.token), rate_limit_per_s=rate, **kw)


def raw_latest(raw: Path) -> dict[str, dict[str, dict[str, Any]]]:
    """Per collection, id → the record with the greatest updated_at (the build's rule)."""
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for name in COLLECTIONS:
        latest: dict[str, dict[str, Any]] = {}
        for line in (raw / f"{name}.jsonl").read_text(encoding="utf-8").splitlines():
            rec = json.loads(line)
            key = str(rec["id"])
            if key not in latest or (rec.get("updated_at") or 0) >= (latest[key].get("updated_at") or 0):
                latest[key] = rec
        out[name] = latest
    return out


def served(emu) -> dict[str, dict[str, dict[str, Any]]]:
    """What the emulator serves now, keyed like raw_latest (leads include the trashed ones)."""
    out = {}
    for name in COLLECTIONS:
        records = emu.records(name) + (emu.records("deleted_leads") if name == "leads" else [])
        out[name] = {str(r["id"]): r for r in records}
    return out


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


def test_never_more_than_7_requests_in_any_second(tmp_path, tiny):
    """At the real limit: ~45 requests (pages of 50); the emulator's own log must never show 8 within 1 s.

    The emulator runs as its own process here, as amoCRM is remote: in one process the client's
    and the server's threads share one interpreter lock, which delays the server's timestamps.
    """
    served_dir = tmp_path / "served"
    served_dir.mkdir()
    view = tiny.as_of(tiny.end)
    (served_dir / "account.json").write_text(json.dumps(view["account"]), encoding="utf-8")
    for name in COLLECTIONS:
        records = view[name] + (view["deleted_leads"] if name == "leads" else [])
        lines = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
        (served_dir / f"{name}.jsonl").write_text(lines, encoding="utf-8")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    token = "test-" + secrets.token_hex(8)
    cmd = [sys.executable, "-m", "etl", "emulator", "--raw", str(served_dir), "--port", str(port), "--token", token]
    proc = subprocess.Popen(
        [*cmd, "--rate-limit", "7"], cwd=REPO_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                requests.get(url + "/_emulator/state", timeout=2)
                break
            except requests.RequestException:
                time.sleep(0.05)
        with AmoClient(url, StaticToken(token), rate_limit_per_s=7.0) as client:
            result = pull(tmp_path / "raw", client, page_size=50)
        log = requests.get(url + "/_emulator/log", timeout=10).json()["requests"]
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    assert result.status_429 == 0 and all(e["status"] != 429 for e in log)
    assert len(log) == result.requests >= 30
    assert sliding_window_max(e["mono"] for e in log) <= 7
    assert raw_latest(tmp_path / "raw") == raw_latest(served_dir)


@pytest.mark.parametrize(
    "faults",
    [
        {"phantom_next": True},
        {"error_rate": 0.25, "error_status": 503},
        {"error_rate": 0.2, "error_status": 500, "seed": 11},
        {"slow_s": 0.4, "slow_rate": 0.1},
        {"drop_rate": 0.2},
        {"malformed_rate": 0.2},
        {"touch_per_request": 3, "touch_budget": 30},
    ],
    ids=lambda f: next(iter(f)),
)
def test_faults_are_survived_with_nothing_lost(tmp_path, tiny, faults):
    with start_emulator(tiny, rate_limit_per_s=FAST, faults=faults) as emu:
        with client_for(emu, timeout_s=0.25, max_retries=8, retry_budget=200) as client:
            result = pull(tmp_path, client, page_size=50)
        want = served(emu)  # after the touches: the client must hold the latest version of each
    assert raw_latest(tmp_path) == want
    if "phantom_next" not in faults and "touch_per_request" not in faults:
        assert result.retries > 0  # the fault did happen and was retried


def _export_files(raw: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(raw.iterdir())}


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
        previous = _export_files(tmp_path)
        emu.advance(86400)
        emu.set_faults(**faults)
        with client_for(emu, max_retries=2) as client, pytest.raises(AmoError) as err:
            pull(tmp_path, client)
    assert err.value.kind == kind and words in err.value.message
    assert _export_files(tmp_path) == previous  # cursors, records, account: all as before


def test_expired_long_lived_token_is_an_auth_error(tmp_path, tiny):
    with start_emulator(tiny, rate_limit_per_s=FAST) as emu:
        expired = emu.issue_token(ttl_s=-1)
        with client_for(emu, tokens=StaticToken(expired)) as client, pytest.raises(AmoError) as err:
            pull(tmp_path, client)
    assert err.value.kind == "auth" and "токен истёк" in err.value.message
    assert not (tmp_path / "export.json").exists()


def test_oauth_refresh_rotates_and_persists_the_pair_before_use(tmp_path, tiny):
    token_file = tmp_path / "tokens.json"
    settings = OAuthSettings("cid", "secret", "https://example.com/cb", token_file)
    with start_emulator(tiny, rate_limit_per_s=FAST) as emu:
        emu.add_client("cid", "secret", "https://example.com/cb")
        with client_for(emu) as c:
            exchange_code(c.session, emu.url, settings, emu.authorize("cid"))
        first = json.loads(token_file.read_text())
        assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
        # The access token expires: the client gets a 401, refreshes once, and carries on.
        expired = emu.state.issue_pair("cid", access_ttl_s=-1)
        write_token_file(token_file, expired)
        with client_for(emu, tokens=OAuthTokens(settings)) as client:
            pull(tmp_path / "raw", client)
            assert client.stats.refreshed == 1
        second = json.loads(token_file.read_text())
        assert second["refresh_token"] != expired["refresh_token"] and stat.S_IMODE(token_file.stat().st_mode) == 0o600
        assert raw_latest(tmp_path / "raw") == served(emu)
        # The old refresh token died with the rotation: reusing it is refused.
        write_token_file(token_file, {**expired, "access_token": emu.issue_token(ttl_s=-1)})
        with client_for(emu, tokens=OAuthTokens(settings)) as client, pytest.raises(AmoError) as err:
            client.get("/api/v4/account")
        assert err.value.kind == "auth"
        assert first["refresh_token"] != second["refresh_token"]


def test_cancel_leaves_the_previous_export_untouched(tmp_path, tiny):
    with start_emulator(tiny, rate_limit_per_s=FAST) as emu:
        with client_for(emu) as client:
            pull(tmp_path, client)
        previous = _export_files(tmp_path)
        emu.advance(3 * 86400)
        cancel = threading.Event()
        counter = {"n": 0}

        def stop_after_some() -> None:
            counter["n"] += 1
            if counter["n"] == 8:  # mid-pull, after users/pipelines/… and some leads
                cancel.set()

        with client_for(emu, cancel=cancel, on_request=stop_after_some) as client, pytest.raises(Cancelled):
            pull(tmp_path, client, page_size=10)
    assert _export_files(tmp_path) == previous
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".pull-")]  # staging cleaned up


def test_keyset_walk_handles_more_ties_than_a_page(tmp_path):
    """60 contacts updated in the same second, pages of 25: stepping through the tie gets all 60."""
    view = {
        "account": {"id": 1},
        "contacts": [{"id": i, "updated_at": 1_000 if i < 60 else 1_000 + i} for i in range(80)],
    }
    with start_emulator(view, rate_limit_per_s=FAST) as emu, client_for(emu) as client:
        rows = [
            r
            for page in client.iter_keyset_pages("/api/v4/contacts", [], "contacts", 25, "updated_at", None)
            for r in page
        ]
    assert sorted({r["id"] for r in rows}) == list(range(80))


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


def test_first_oauth_run_trades_the_auth_code_for_a_token_file(tmp_path, tiny):
    from etl.config import load_config
    from etl.extract.pull import connect

    token_file = tmp_path / "amo-tokens.json"
    with start_emulator(tiny, rate_limit_per_s=FAST) as emu:
        emu.add_client("cid", "secret", "https://example.com/cb")
        env = {
            "AMOCRM_BASE_URL": emu.url,
            "AMOCRM_CLIENT_ID": "cid",
            "AMOCRM_CLIENT_SECRET": "secret",
            "AMOCRM_REDIRECT_URI": "https://example.com/cb",
            "AMOCRM_TOKEN_FILE": str(token_file),
            "AMOCRM_AUTH_CODE": emu.authorize("cid"),
        }
        conn = connect(load_config(), tmp_path / "raw", environ=env)
        assert stat.S_IMODE(token_file.stat().st_mode) == 0o600 and not conn.demo
        with client_for(emu, tokens=conn.tokens) as client:
            pull(tmp_path / "raw", client)
        assert raw_latest(tmp_path / "raw") == served(emu)


def test_a_stricter_server_limit_means_429s_retried_and_slower_pacing(tmp_path, tiny):
    """The emulator allows 10/s, the client was told 12/s: 429s come, are retried, and the client
    widens its spacing (5 % per 429, at most 30 %) instead of hammering; nothing is lost."""
    with start_emulator(tiny, rate_limit_per_s=10) as emu, client_for(emu, rate=12.0) as client:
        start_interval = client.pacer.interval
        result = pull(tmp_path, client, page_size=50)
        want = served(emu)
    assert result.status_429 > 0 and client.pacer.interval > start_interval
    assert client.pacer.interval <= start_interval * 1.3 + 1e-9
    assert raw_latest(tmp_path) == want


def test_two_pulls_into_one_folder_do_not_interleave(tmp_path):
    from etl.extract.pull import _exclusive

    client = AmoClient("http://127.0.0.1:9", StaticToken("unused"))  # never reached: the lock says no first
    with _exclusive(tmp_path), pytest.raises(AmoError) as err:
        pull(tmp_path, client)
    assert err.value.kind == "data" and "уже идёт другая выгрузка" in err.value.message
    assert client.stats.requests == 0
