"""``python -m etl refresh`` as the admin page runs it: a separate process, progress file, exit codes.

A small demo account (300 deals a year) keeps every run to a few seconds at the real 7 requests/s.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from etl.config import REPO_ROOT
from etl.simulated.emulator import start_emulator
from etl.simulated.synth import generate_account, write_raw_export
from tests.builders.disk import refusing, small_disk

DEALS = 300


def run_etl(*args: str, env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith("AMOCRM_")}
    return subprocess.run(
        [sys.executable, "-m", "etl", *args],
        cwd=REPO_ROOT,
        env={**base, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def demo_export(data: Path, end: datetime) -> dict:
    """The demo raw export as ``python -m etl demo`` writes it (with its "demo" entry)."""
    account = generate_account(seed=5, deals_per_year=DEALS, years=1.0, end=end)
    extra = {"demo": {"seed": 5, "deals_per_year": DEALS, "years": 1.0, "end": end.isoformat().replace("+00:00", "Z")}}
    write_raw_export(data / "raw", account.as_of(end), source="emulator", pulled_at=end, extra=extra)
    return json.loads((data / "raw" / "export.json").read_text())


def fast_failing_config(tmp: Path) -> Path:
    """The repository's config with one retry and short timeouts, so failures are quick to reach."""
    cfg = yaml.safe_load((REPO_ROOT / "config.yaml").read_text(encoding="utf-8"))
    cfg["amocrm"].update(max_retries=1, timeout_s=2)
    path = tmp / "config.yaml"
    path.write_text(yaml.safe_dump(cfg, allow_unicode=True), encoding="utf-8")
    return path


def current(data: Path) -> str | None:
    p = data / "snapshots" / "CURRENT"
    return p.read_text().strip() if p.exists() else None


def test_demo_refresh_pulls_from_the_builtin_emulator_and_publishes(tmp_path):
    # The demo export was pulled 2 days ago (midnight UTC); the built-in emulator's clock is "now".
    end = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=2)
    before = demo_export(tmp_path, end)
    progress = tmp_path / "progress.json"
    r = run_etl("refresh", "--data-dir", str(tmp_path), "--progress-file", str(progress))
    assert r.returncode == 0, r.stderr
    p = json.loads(progress.read_text())
    assert p["state"] == "succeeded" and p["stage"] == "done" and p["error"] is None
    assert p["snapshot_id"] == current(tmp_path) and p["pid"] > 0 and p["refresh_id"]
    assert all(c["done"] for c in p["collections"].values()) and set(p["collections"]) >= {"leads", "events", "tasks"}
    assert p["collections"]["events"]["records"] > 0  # two days of business were pulled
    after = json.loads((tmp_path / "raw" / "export.json").read_text())
    assert after["demo"] == before["demo"] and after["pulled_at"] > before["pulled_at"]
    assert after["collections"]["events"]["cursor"] > before["collections"]["events"]["cursor"]
    assert "events:" in r.stdout and "запросов" in r.stdout  # progress on the terminal
    assert "eyJ" not in r.stdout + r.stderr and "Bearer" not in r.stdout + r.stderr  # no token anywhere
    manifest = json.loads((tmp_path / "snapshots" / p["snapshot_id"] / "manifest.json").read_text())
    assert manifest["row_counts"]["deals"] > 0


@pytest.fixture
def account_and_export(tmp_path):
    end = datetime(2026, 5, 1, tzinfo=UTC)
    demo_export(tmp_path, end)
    return generate_account(seed=5, deals_per_year=DEALS, years=1.0, end=end)


def test_failures_say_what_failed_and_keep_the_previous_data(tmp_path, account_and_export):
    config = fast_failing_config(tmp_path)
    progress = tmp_path / "p.json"
    with start_emulator(account_and_export, clock=account_and_export.end + timedelta(days=1)) as emu:
        env = {"AMOCRM_BASE_URL": emu.url, "AMOCRM_ACCESS_TOKEN": emu.token}
        ok = run_etl("refresh", "--data-dir", str(tmp_path), "--config", str(config), env=env)
        assert ok.returncode == 0, ok.stderr
        snapshot = current(tmp_path)
        export = (tmp_path / "raw" / "export.json").read_bytes()
        emu.advance(86400)
        cases = [
            ({"block": True}, env, "blocked", "IP заблокирован amoCRM (HTML 403)"),
            ({"unpaid": True}, env, "unpaid", "аккаунт не оплачен (402)"),
            ({"fail_after": 5}, env, "network", "amoCRM недоступен (сеть)"),
            ({}, {**env, "AMOCRM_ACCESS_TOKEN": emu.issue_token(ttl_s=-1)}, "auth", "токен истёк"),
        ]
        for faults, case_env, kind, words in cases:
            emu.clear_faults()
            emu.set_faults(**faults)
            r = run_etl(
                "refresh",
                "--data-dir",
                str(tmp_path),
                "--config",
                str(config),
                "--progress-file",
                str(progress),
                env=case_env,
            )
            assert r.returncode == 1, (kind, r.stdout, r.stderr)
            assert words in r.stderr and "Traceback" not in r.stderr
            p = json.loads(progress.read_text())
            assert p["state"] == "failed" and p["error"]["kind"] == kind and words in p["error"]["message"]
            assert current(tmp_path) == snapshot and (tmp_path / "raw" / "export.json").read_bytes() == export
            assert emu.token not in r.stdout + r.stderr
    # Nobody listening at all: a network failure too.
    r = run_etl(
        "refresh",
        "--data-dir",
        str(tmp_path),
        "--config",
        str(config),
        env={**env, "AMOCRM_BASE_URL": "http://127.0.0.1:9"},
    )
    assert r.returncode == 1 and "amoCRM недоступен (сеть)" in r.stderr and current(tmp_path) == snapshot


def test_sigterm_cancels_cleanly(tmp_path, account_and_export):
    progress = tmp_path / "p.json"
    export = (tmp_path / "raw" / "export.json").read_bytes()
    with start_emulator(
        account_and_export, clock=account_and_export.end + timedelta(days=3), faults={"slow_s": 0.3}
    ) as emu:
        env = {k: v for k, v in os.environ.items() if not k.startswith("AMOCRM_")}
        env.update(AMOCRM_BASE_URL=emu.url, AMOCRM_ACCESS_TOKEN=emu.token)
        proc = subprocess.Popen(
            [sys.executable, "-m", "etl", "refresh", "--data-dir", str(tmp_path), "--progress-file", str(progress)],
            cwd=REPO_ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # wait until it is pulling (a collection has started)
            p = json.loads(progress.read_text()) if progress.exists() else {}
            if p.get("collection"):
                break
            time.sleep(0.05)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 1 and "отменено" in err
    p = json.loads(progress.read_text())
    assert p["state"] == "cancelled" and p["error"] is None
    assert (tmp_path / "raw" / "export.json").read_bytes() == export and current(tmp_path) is None
    assert not list((tmp_path / "raw").glob(".pull-*"))


def test_usage_errors_exit_2(tmp_path):
    assert run_etl("refresh", "--no-such-option").returncode == 2
    bad = tmp_path / "bad.yaml"
    bad.write_text("amocrm: {rate_limit_per_s: 500}\n", encoding="utf-8")
    r = run_etl("refresh", "--config", str(bad), "--data-dir", str(tmp_path))
    assert r.returncode == 2 and "rate_limit_per_s" in r.stderr


def test_a_refresh_that_would_unmap_most_deals_is_held_back_unless_forced(tmp_path, account_and_export):
    # A CRM admin renames every funnel status: only won (142) and lost (143) still match, so most
    # open deals would fall to "other", and of the six stages the demo's live deals are in (most of
    # a year's deals are closed) only those two would be left.
    cfg = yaml.safe_load((REPO_ROOT / "config.yaml").read_text(encoding="utf-8"))
    cfg["stages"] = {"won": [142], "lost": [143]}
    renamed = tmp_path / "renamed.yaml"
    renamed.write_text(yaml.safe_dump(cfg, allow_unicode=True), encoding="utf-8")
    progress = tmp_path / "p.json"
    with start_emulator(account_and_export, clock=account_and_export.end + timedelta(days=1)) as emu:
        env = {"AMOCRM_BASE_URL": emu.url, "AMOCRM_ACCESS_TOKEN": emu.token}
        assert run_etl("refresh", "--data-dir", str(tmp_path), env=env).returncode == 0
        snapshot = current(tmp_path)
        args = ("refresh", "--data-dir", str(tmp_path), "--config", str(renamed), "--progress-file", str(progress))
        r = run_etl(*args, env=env)
        assert r.returncode == 1 and "Traceback" not in r.stderr
        p = json.loads(progress.read_text())
        assert p["state"] == "failed" and p["error"]["kind"] == "guard"
        assert "снимок не опубликован: publish refused: stages 6 → 2 (−67 %)" in p["error"]["message"]
        assert "stages 6 → 2 (−67 %)" in r.stderr
        assert current(tmp_path) == snapshot and not list((tmp_path / "snapshots").glob(".tmp-*"))
        forced = run_etl(*args, "--force", env=env)
        assert forced.returncode == 0, forced.stderr
        assert current(tmp_path) != snapshot


def test_a_full_data_folder_during_the_pull_fails_with_kind_disk(tmp_path, account_and_export):
    # The data folder is a small tmpfs (as root; tests/builders/disk.py) that is full by the
    # second refresh; the progress file lives elsewhere, as the admin's does not have to.
    data, progress = tmp_path / "data", tmp_path / "p.json"
    with small_disk(data, "16m") as disk:
        shutil.copytree(tmp_path / "raw", data / "raw")  # the demo export, pulled before
        with start_emulator(account_and_export, clock=account_and_export.end + timedelta(days=1)) as emu:
            env = {"AMOCRM_BASE_URL": emu.url, "AMOCRM_ACCESS_TOKEN": emu.token}
            assert run_etl("refresh", "--data-dir", str(data), env=env).returncode == 0
            snapshot, export = current(data), (data / "raw" / "export.json").read_bytes()
            emu.advance(86400)
            with refusing(disk, errno.ENOSPC) as words:
                r = run_etl("refresh", "--data-dir", str(data), "--progress-file", str(progress), env=env)
                assert r.returncode == 1 and "Traceback" not in r.stderr
                p = json.loads(progress.read_text())
                assert p["state"] == "failed" and p["error"]["kind"] == "disk"
                assert f"{words} while writing {data / 'raw'}/.pull-" in p["error"]["message"]
                assert f"{words} while writing {data / 'raw'}/.pull-" in r.stderr
                assert current(data) == snapshot and (data / "raw" / "export.json").read_bytes() == export
                assert not list((data / "raw").glob(".pull-*")) and not list((data / "raw").glob(".*.tmp"))
