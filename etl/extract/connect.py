"""Where a pull reads from: a real account (credentials from the environment) or the demo emulator.

Demo mode (no subdomain, no ``AMOCRM_BASE_URL``) starts the built-in emulator in this process over
real HTTP, so the demo runs the production code path.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import requests

from etl.extract.amo_client import AmoClient, StaticToken, exchange_code, oauth_settings_from_env, tokens_from_env
from etl.extract.collect import PullProgress, PullResult, pull

#: One-time OAuth authorization code (first run only; the token file holds the pair afterwards).
AUTH_CODE_ENV = "AMOCRM_AUTH_CODE"


@dataclass
class Connection:
    base_url: str
    tokens: Any
    source: str
    demo: bool
    handle: Any = None  # the in-process emulator in demo mode

    def close(self) -> None:
        if self.handle is not None:
            self.handle.stop()
            self.handle = None


def demo_clock(account: Any, now: datetime | None = None) -> datetime:
    """Demo clock: wall time clamped to [end, end + horizon] of the synthetic account."""
    now = now or datetime.now(UTC)
    end = account.end
    horizon = timedelta(days=int(getattr(account, "horizon_days", 60) or 60))
    return min(max(now.replace(microsecond=0), end), end + horizon)


def connect(config: Any, raw_dir: Path, environ: dict[str, str] | None = None, say: Any = None) -> Connection:
    """Where to pull from: AMOCRM_BASE_URL / subdomain with env credentials, else the demo emulator.

    In demo mode the emulator runs in this process on a free port with a generated token and
    serves the same synthetic account as the demo raw export (its export.json "demo" entry);
    if there is no raw export yet, one is written first (as of the account's end), so that the
    pull that follows is incremental, as every later refresh is.
    """
    base_url = config.amocrm.base_url(environ)
    if base_url:
        env = os.environ if environ is None else environ
        settings = oauth_settings_from_env(config.amocrm, env)
        code = env.get(AUTH_CODE_ENV, "").strip()
        if settings is not None and code and not settings.token_file.exists():
            # First run of an OAuth integration: trade the authorization code for the token pair.
            with requests.Session() as session:
                exchange_code(session, base_url, settings, code, float(config.amocrm.timeout_s))
        tokens = tokens_from_env(config.amocrm, environ)
        return Connection(base_url, tokens, config.amocrm.subdomain or "", False)
    from etl.simulated.emulator import demo_account, demo_params, start_emulator

    params = demo_params(raw_dir)
    if say:
        say(f"демо-режим: генерация синтетического аккаунта ({params['deals_per_year']} сделок в год)")
    account = demo_account(params)
    if not (raw_dir / "export.json").is_file():
        _seed_demo_export(raw_dir, account, params)
    handle = start_emulator(account, clock=demo_clock(account), rate_limit_per_s=config.amocrm.rate_limit_per_s)
    return Connection(handle.url, StaticToken(handle.token), "emulator", True, handle)


def _seed_demo_export(raw_dir: Path, account: Any, params: dict[str, Any]) -> None:
    from etl.simulated.synth import write_raw_export

    end = account.end
    demo = {
        "seed": params["seed"],
        "deals_per_year": params["deals_per_year"],
        "years": params["years"],
        "end": end.isoformat().replace("+00:00", "Z"),
    }
    write_raw_export(raw_dir, account.as_of(end), source="emulator", pulled_at=end, extra={"demo": demo})


def make_client(config: Any, conn: Connection, cancel: threading.Event | None, on_request: Any = None) -> AmoClient:
    """A client for the connection, with pacing, timeout and retries from ``config.amocrm``."""
    a = config.amocrm
    return AmoClient(
        conn.base_url,
        conn.tokens,
        rate_limit_per_s=a.rate_limit_per_s,
        timeout_s=a.timeout_s,
        max_retries=a.max_retries,
        cancel=cancel,
        on_request=on_request,
    )


def pull_configured(
    config: Any, conn: Connection, raw_dir: Path, cancel: threading.Event, progress: PullProgress, *, full: bool
) -> PullResult:
    """One pull over the connection as ``config.amocrm`` says (what ``pull`` and ``refresh`` both run)."""
    with make_client(config, conn, cancel) as client:
        return pull(
            raw_dir,
            client,
            full=full,
            overlap_s=config.amocrm.overlap_seconds,
            page_size=config.amocrm.page_size,
            progress=progress,
            source=conn.source,
        )
