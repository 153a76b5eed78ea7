"""``python -m report [--data-dir DIR] [--host 127.0.0.1] [--port 8050]``: serve the report.

Before serving, it makes sure there is a snapshot to show.  With no amoCRM account configured
(demo mode) and no snapshot yet, it writes the synthetic demo account as a raw export and builds
it (``python -m etl demo`` + ``python -m etl build``); with an account configured it runs
``python -m etl refresh``.  Both run as child processes: polars must not run in the web process
before it could be forked (STYLE.md), and a crash there must not take the server down.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from etl.config import REPO_ROOT, Config, ConfigError, data_dir, load_config
from etl.snapshot.store import current_id


def etl_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "etl", *args]


def run_step(title: str, cmd: list[str]) -> bool:
    """Run an ETL step as a child process, its progress going straight to this terminal."""
    print(f"==> {title}", file=sys.stderr, flush=True)
    started = time.monotonic()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")]))}
    proc = subprocess.run(cmd, cwd=REPO_ROOT, env=env, check=False)
    took = time.monotonic() - started
    if proc.returncode != 0:
        print(f"==> {title}: failed (exit {proc.returncode}) after {took:.0f} s", file=sys.stderr, flush=True)
        return False
    print(f"==> {title}: done in {took:.0f} s", file=sys.stderr, flush=True)
    return True


def ensure_snapshot(config: Config, data: Path, config_path: str | None, demo_deals: int, demo_years: float) -> bool:
    """Make sure a snapshot is published; True when one is there (old or new)."""
    snapshots = data / config.snapshots_dir
    if current_id(snapshots):
        return True
    cfg = ["--config", config_path] if config_path else []
    if config.amocrm.base_url() is None:
        raw = data / "raw"
        if not (raw / "leads.jsonl").exists():
            ok = run_step(
                f"демо-аккаунт: генерация ({demo_deals} сделок в год, лет: {demo_years:g}) → {raw}",
                etl_command("demo", "--out", str(raw), "--deals-per-year", str(demo_deals), "--years", str(demo_years)),
            )
            if not ok:
                return False
        run_step("сборка снимка данных", etl_command("build", "--raw", str(raw), "--data-dir", str(data), *cfg))
    else:
        # Through report.admin: the same host-wide lock and audit log as the admin's button.
        run_step(
            "загрузка данных из amoCRM",
            [sys.executable, "-m", "report.admin", "refresh", "--data-dir", str(data), *cfg],
        )
    return current_id(snapshots) is not None


def build_app(config: Config, data: Path) -> Any:
    """The report app with admin login, refresh and viewer access installed (one place for
    ``python -m report`` and WSGI servers)."""
    # Imported late: nothing heavy before the data exists.
    from report import admin
    from report.app import create_app

    app = create_app(config, data, extra_layout=admin.panel_layout)
    admin.install(app, config, data)
    return app


def wsgi() -> Any:
    """WSGI factory for several workers: ``gunicorn -w 4 'report.server:wsgi()'``.

    Config from ``$REPORT_CONFIG`` (default: the repository's config.yaml), data from
    ``$REPORT_DATA_DIR``. It serves what is published; it does not build a snapshot.
    """
    config = load_config(os.environ.get("REPORT_CONFIG") or None)
    return build_app(config, data_dir()).server


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m report", description="Serve the sales-performance report.")
    parser.add_argument("--data-dir", default=None, help="data folder (default: $REPORT_DATA_DIR or ./data)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8050)
    parser.add_argument("--config", default=None, help="config file (default: the repository's config.yaml)")
    parser.add_argument("--demo-deals-per-year", type=int, default=100_000, help="size of the demo account")
    parser.add_argument("--demo-years", type=float, default=1.0, help="years of history in the demo account")
    parser.add_argument("--debug", action="store_true", help="Dash debug mode (development only)")
    args = parser.parse_args(argv)
    try:
        config = load_config(args.config)
    except ConfigError as exc:
        print(f"config error: {exc}", file=sys.stderr)
        return 2
    data = data_dir(args.data_dir)
    data.mkdir(parents=True, exist_ok=True)
    if not ensure_snapshot(config, data, args.config, args.demo_deals_per_year, args.demo_years):
        print("no snapshot could be built; the report starts and says so", file=sys.stderr)

    from report.admin.auth import AuthConfigError

    try:
        app = build_app(config, data)
    except AuthConfigError as exc:
        print(f"config error: {exc}", file=sys.stderr)
        return 2
    print(f"==> отчёт: http://{args.host}:{args.port}/", file=sys.stderr, flush=True)
    app.run(host=args.host, port=args.port, debug=args.debug)
    return 0
