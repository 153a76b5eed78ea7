"""The HTTP client and its pacer against the emulator: paced, patient with faults, complete when paging.

The rate test runs at amoCRM's real 7/s against an emulator in its own process; the others at
100/s (:data:`~tests.etl.extract.pull_helpers.FAST`).
"""

from __future__ import annotations

import json
import secrets
import socket
import subprocess
import sys
import time

import pytest
import requests

from etl.config import REPO_ROOT
from etl.extract.amo_client import (
    AmoClient,
    StaticToken,
)
from etl.extract.pull import pull
from etl.simulated.emulator import sliding_window_max, start_emulator
from tests.etl.extract.pull_helpers import COLLECTIONS, FAST, client_for, raw_latest, served


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
