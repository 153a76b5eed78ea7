"""An amoCRM API v4 emulator on 127.0.0.1, faithful to ``AMOCRM.md``, with fault switches.

No real account is reachable from here, so the pull client is tested (and the demo is run) against
this server over real HTTP.  It serves an *account source*: a fixed view (a dict, or a raw export
folder) or a synthetic account whose ``as_of(t)`` view changes as the emulator's clock advances.

This module is the entry point (``python -m etl emulator``) and keeps the names other code
imports; the parts live beside it: :mod:`~etl.simulated.sources` (what is served),
:mod:`~etl.simulated.query` (filters, order, paging links), :mod:`~etl.simulated.indexes`,
:mod:`~etl.simulated.tokens` (OAuth, JWT), :mod:`~etl.simulated.faults`,
:mod:`~etl.simulated.state`, :mod:`~etl.simulated.routes` (the API endpoints),
:mod:`~etl.simulated.control` (the ``/_emulator/…`` endpoints), :mod:`~etl.simulated.handler`
(HTTP) and :mod:`~etl.simulated.server` (start / stop).  See ``docs/amocrm.md``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from etl.simulated.faults import Faults
from etl.simulated.handler import Handler
from etl.simulated.indexes import CollectionIndex, ViewIndex
from etl.simulated.query import page_links, parse_filters, parse_order, parse_with, record_predicate
from etl.simulated.request_log import LogEntry, iter_log_times, sliding_window_max
from etl.simulated.routes import ENTITY_ROUTES, LIST_ROUTES
from etl.simulated.server import EmulatorHandle, start_emulator
from etl.simulated.sources import AccountSource, AsOfSource, RawSource, StaticSource, as_source, load_raw_view
from etl.simulated.state import EmulatorState
from etl.simulated.tokens import OAuthClient, jwt_claims, make_jwt

__all__ = [
    "ENTITY_ROUTES", "LIST_ROUTES", "AccountSource", "AsOfSource", "CollectionIndex", "EmulatorHandle",
    "EmulatorState", "Faults", "Handler", "LogEntry", "OAuthClient", "RawSource", "StaticSource", "ViewIndex", "as_source",
    "demo_account", "demo_params", "iter_log_times", "jwt_claims", "load_raw_view", "main", "make_jwt",
    "page_links", "parse_filters", "parse_order", "parse_with", "record_predicate", "sliding_window_max",
    "start_emulator",
]  # fmt: skip

DEFAULT_DEMO = {"seed": 1, "deals_per_year": 100_000, "years": 1.0, "end": None}


def demo_params(raw_dir: Path | None) -> dict[str, Any]:
    """The demo account's generator parameters: from the raw export's export.json, else defaults."""
    params = dict(DEFAULT_DEMO)
    if raw_dir is not None:
        try:
            export = json.loads((Path(raw_dir) / "export.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            export = {}
        demo = export.get("demo") if isinstance(export, dict) else None
        if isinstance(demo, dict):
            params.update({key: demo[key] for key in DEFAULT_DEMO if key in demo})
    if isinstance(params.get("end"), str):
        params["end"] = datetime.fromisoformat(params["end"].replace("Z", "+00:00")).astimezone(UTC)
    return params


def demo_account(params: dict[str, Any]) -> Any:
    """Generate the synthetic account (imported here: the generator is heavy and optional)."""
    from etl.simulated.synth import generate_account

    return generate_account(
        seed=int(params["seed"]),
        deals_per_year=int(params["deals_per_year"]),
        years=float(params["years"]),
        end=params.get("end"),
    )


def _parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m etl emulator", description="Serve an amoCRM account as API v4 on 127.0.0.1."
    )
    src = parser.add_mutually_exclusive_group()
    src.add_argument("--raw", help="serve this raw export folder")
    src.add_argument("--demo", action="store_true", help="serve the synthetic demo account (default)")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--token", help="a static long-lived token to accept (default: one is generated and printed)")
    parser.add_argument("--data-dir", help="data folder whose raw/export.json names the demo account's parameters")
    parser.add_argument("--seed", type=int, help="demo: generator seed")
    parser.add_argument("--deals-per-year", type=int, help="demo: deals per year")
    parser.add_argument("--years", type=float, help="demo: years of history")
    parser.add_argument("--clock", help="start the clock at this ISO time (demo default: the account's end)")
    parser.add_argument(
        "--advance-every", type=float, default=0, metavar="S", help="advance the clock by --advance-by every S seconds"
    )
    parser.add_argument("--advance-by", type=float, default=3600, metavar="S", help="seconds per automatic advance")
    parser.add_argument("--rate-limit", type=float, default=7.0, help="requests per second per token (default 7)")
    parser.add_argument("--client-id", help="OAuth: accept this integration (with --client-secret, --redirect-uri)")
    parser.add_argument("--client-secret")
    parser.add_argument("--redirect-uri", default="https://example.com/oauth")
    parser.add_argument("--faults", help='fault switches as JSON, e.g. \'{"phantom_next": true, "error_rate": 0.05}\'')
    parser.add_argument("--verbose", action="store_true", help="log every request on stderr")
    return parser


def _source(args: argparse.Namespace) -> tuple[AccountSource, str]:
    """What to serve (a raw export, or the demo account with its parameters) and how to name it."""
    from etl.config import data_dir

    clock = _parse_time(args.clock) if args.clock else None
    if args.raw:
        if not Path(args.raw).is_dir():
            raise FileNotFoundError(f"raw export folder {args.raw} does not exist")
        return RawSource(Path(args.raw), clock), f"raw export {args.raw}"
    params = demo_params(data_dir(args.data_dir) / "raw")
    for key, value in (("seed", args.seed), ("deals_per_year", args.deals_per_year), ("years", args.years)):
        if value is not None:
            params[key] = value
    print(f"generating the demo account ({params['deals_per_year']} deals/year, seed {params['seed']}) …")
    return AsOfSource(demo_account(params), clock), "the synthetic demo account"


def _serve_until_interrupted(handle: EmulatorHandle, advance_every: float, advance_by: float) -> None:
    try:
        while True:
            if advance_every > 0:
                time.sleep(advance_every)
                handle.advance(advance_by)
            else:
                time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        handle.stop()


def main(argv: list[str]) -> int:
    """``python -m etl emulator [--raw DIR | --demo] [--port 8765] [--token T] …``: serve until Ctrl+C."""
    args = _parser().parse_args(argv)
    try:
        faults = json.loads(args.faults) if args.faults else None
        if faults is not None and not isinstance(faults, dict):
            raise ValueError("--faults must be a JSON object")
        source, what = _source(args)
        handle = start_emulator(
            source,
            port=args.port,
            token=args.token,
            rate_limit_per_s=args.rate_limit,
            faults=faults,
            quiet=not args.verbose,
        )
    except (ValueError, OSError, TypeError) as exc:
        print(f"emulator: {exc}", file=sys.stderr)
        return 2
    if args.client_id:
        handle.add_client(args.client_id, args.client_secret or "", args.redirect_uri)
    print(f"amoCRM emulator serving {what} at {handle.url} (clock {handle.state.clock.isoformat()})")
    print(f"  export AMOCRM_BASE_URL={handle.url}")
    if not args.token:
        print(f"  export AMOCRM_ACCESS_TOKEN={handle.token}   # generated for this emulator run only")
    print("  Ctrl+C stops it.", flush=True)
    _serve_until_interrupted(handle, args.advance_every, args.advance_by)
    return 0
