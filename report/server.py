"""``python -m report [--data-dir DIR] [--host 127.0.0.1] [--port 8050]``: serve the report.

Before serving, it makes sure there is a snapshot to show.  With no amoCRM account configured
(demo mode) and no snapshot yet, it writes the synthetic demo account as a raw export and builds
it (``python -m etl demo`` + ``python -m etl build``); with an account configured it runs
``python -m etl refresh``.  Both run as child processes: polars must not run in the web process
before it could be forked (STYLE.md), and a crash there must not take the server down.

A published snapshot of an older schema (``manifest.json``'s ``schema_version`` below
``etl.snapshot.store.SCHEMA_VERSION``) is rebuilt from the raw export the same way before serving
(issue 9); without a raw export the server stops and prints the command that fixes it.

``python -m report serve --workers N`` serves with gunicorn instead of Flask's development server
(see :func:`gunicorn_command` for the settings and why).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from etl import allocator
from etl.config import REPO_ROOT, Config, ConfigError, data_dir, load_config
from etl.snapshot.store import SCHEMA_VERSION, current_id


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


class StaleSnapshotError(RuntimeError):
    """The published snapshot is of an older schema and there is no raw export to rebuild it from."""


def snapshot_schema(snapshots: Path) -> int | None:
    """``schema_version`` of the published snapshot (None: no snapshot or no readable manifest)."""
    sid = current_id(snapshots)
    if sid is None:
        return None
    try:
        manifest = json.loads((snapshots / sid / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    version = manifest.get("schema_version")
    return version if isinstance(version, int) else 0


def upgrade_snapshot(config: Config, data: Path, config_path: str | None) -> bool:
    """Rebuild an old-schema snapshot from the raw export (a child process); True if one was needed.

    Raises :class:`StaleSnapshotError` (its message names the fix) when there is no raw export.
    """
    snapshots = data / config.snapshots_dir
    version = snapshot_schema(snapshots)
    if version is None or version >= SCHEMA_VERSION:
        return False
    raw = data / "raw"
    cfg = ["--config", config_path] if config_path else []
    build = etl_command("build", "--raw", str(raw), "--data-dir", str(data), *cfg)
    if not (raw / "leads.jsonl").exists():
        raise StaleSnapshotError(
            f"the published snapshot has schema {version}, this version reads {SCHEMA_VERSION}, and there is "
            f"no raw export in {raw} to rebuild it from. Pull the data again: "
            f"python -m report.admin refresh --data-dir {data} --full"
        )
    print(
        f"==> снимок данных в старой схеме ({version}, нужна {SCHEMA_VERSION}): пересборка из {raw}",
        file=sys.stderr,
        flush=True,
    )
    if not run_step("пересборка снимка данных", build) or snapshot_schema(snapshots) != SCHEMA_VERSION:
        raise StaleSnapshotError(f"the rebuild failed; run it by hand to see why: {' '.join(build)}")
    return True


def prepare(config: Config, data: Path, config_path: str | None, demo_deals: int, demo_years: float) -> int:
    """Everything before serving: a snapshot there, and of the current schema. 0, or an exit code."""
    data.mkdir(parents=True, exist_ok=True)
    if not ensure_snapshot(config, data, config_path, demo_deals, demo_years):
        print("no snapshot could be built; the report starts and says so", file=sys.stderr)
    try:
        upgrade_snapshot(config, data, config_path)
    except StaleSnapshotError as exc:
        print(f"snapshot error: {exc}", file=sys.stderr)
        return 2
    return 0


def build_app(config: Config, data: Path, warm_up: bool = False) -> Any:
    """The report app with admin login, refresh and viewer access installed (one place for
    ``python -m report`` and WSGI servers); ``warm_up``: this process warms each new snapshot's
    common views in the background (``report.warmup``)."""
    # Imported late: nothing heavy before the data exists. numpy.ma is imported lazily on first
    # use (plotly's JSON encoder): two threads of a new worker doing that at once saw a half-
    # initialised module ("partially initialized module 'numpy' has no attribute 'ma'", a 500 on
    # /_dash-layout under load), so it is imported here, before any thread serves.
    import numpy.ma  # noqa: F401

    from report import admin
    from report.app import create_app

    app = create_app(config, data, extra_layout=admin.panel_layout, warm_up=warm_up)
    admin.install(app, config, data)
    # Dash sets itself up (which component libraries it serves, the index's script tags) on the
    # first request, marking that done before doing it: in a new gunicorn worker, a browser's
    # request for a component's JavaScript served by a second thread meanwhile got a 500 ("dash
    # is not a registered library") and the page stayed blank. One request here, before any
    # thread serves, does the setup.
    app.server.test_client().get("/_dash-dependencies")
    return app


#: ``0`` turns the warm-up of each new snapshot (report/warmup.py) off in the WSGI workers.
ENV_WARM_UP = "REPORT_WARM_UP"


def wsgi() -> Any:
    """WSGI factory for several workers: ``gunicorn -w 4 'report.server:wsgi()'``.

    Config from ``$REPORT_CONFIG`` (default: the repository's config.yaml), data from
    ``$REPORT_DATA_DIR``. It serves what is published; it does not build a snapshot. Each worker
    warms new snapshots in the background unless ``$REPORT_WARM_UP`` is ``0``.
    """
    config = load_config(os.environ.get("REPORT_CONFIG") or None)
    return build_app(config, data_dir(), warm_up=os.environ.get(ENV_WARM_UP, "1") != "0").server


#: Seconds an idle keep-alive connection stays open.  Longer than the reverse proxy's upstream
#: idle timeout (nginx keepalive_timeout 60 s by default): the proxy must be the one to close an
#: idle connection, else it may send a request on a socket gunicorn is closing (a reset).
KEEP_ALIVE_S = 75
#: A worker silent this long is restarted; a cold metric on a 5-year account takes seconds, not minutes.
WORKER_TIMEOUT_S = 120
GRACEFUL_TIMEOUT_S = 30
BACKLOG = 2048
#: The access log without the query string: a first request carries ``?key=`` (docs/operations.md).
ACCESS_LOG_FORMAT = '%(h)s %(t)s "%(m)s %(U)s" %(s)s %(b)s %(L)s'


def gunicorn_command(
    host: str, port: int, workers: int, threads: int, cpu_count: int | None = None
) -> tuple[list[str], dict[str, str]]:
    """The gunicorn command line and the variables it adds to the environment.

    * ``gthread`` workers: Dash pages open several requests at once (layout, dependencies, each
      callback) and keep the connection; a sync worker serves one connection at a time and closes
      it after every answer.
    * No ``--preload``: the app (and polars) is imported in each worker after the fork, never in
      the master before it (polars in a forked child hangs, STYLE.md).
    * ``POLARS_MAX_THREADS`` = cores / workers, so N workers do not start N × cores threads each.
    * polars' allocator set as for the ETL (``etl.allocator``): freed pages go back within a second.
    """
    cores = cpu_count or os.cpu_count() or 1
    bind = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    cmd = [
        sys.executable, "-m", "gunicorn", "report.server:wsgi()",
        "--bind", bind, "--workers", str(workers), "--worker-class", "gthread", "--threads", str(threads),
        "--timeout", str(WORKER_TIMEOUT_S), "--graceful-timeout", str(GRACEFUL_TIMEOUT_S),
        "--keep-alive", str(KEEP_ALIVE_S), "--backlog", str(BACKLOG),
        "--access-logfile", "-", "--access-logformat", ACCESS_LOG_FORMAT,
    ]  # fmt: skip
    env = {"POLARS_MAX_THREADS": str(max(1, cores // max(1, workers)))}
    # polars' allocator returns pages freed by a view's reads within a second (etl/allocator.py),
    # so a worker's memory is what it holds, not what it held at its busiest. Always set: once
    # this process has imported polars, polars has put its own default in the environment.
    env |= allocator.ENV
    return cmd, env


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m report [serve]",
        description="Serve the sales-performance report ('serve': with gunicorn, for production).",
    )
    parser.add_argument("--data-dir", default=None, help="data folder (default: $REPORT_DATA_DIR or ./data)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8050)
    parser.add_argument("--config", default=None, help="config file (default: the repository's config.yaml)")
    parser.add_argument("--demo-deals-per-year", type=int, default=100_000, help="size of the demo account")
    parser.add_argument("--demo-years", type=float, default=1.0, help="years of history in the demo account")
    parser.add_argument("--debug", action="store_true", help="Dash debug mode (development only)")
    parser.add_argument("--workers", type=int, default=2, help="serve: gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=8, help="serve: threads per worker")
    return parser


def main(argv: list[str]) -> int:
    production = bool(argv) and argv[0] == "serve"
    args = _parser().parse_args(argv[1:] if production else argv)
    try:
        config = load_config(args.config)
    except ConfigError as exc:
        print(f"config error: {exc}", file=sys.stderr)
        return 2
    data = data_dir(args.data_dir)
    code = prepare(config, data, args.config, args.demo_deals_per_year, args.demo_years)
    if code:
        return code

    from report.admin.auth import AuthConfigError

    try:
        # Also checks the access settings before gunicorn starts; gunicorn's workers warm up, not this process.
        app = build_app(config, data, warm_up=not production)
    except AuthConfigError as exc:
        print(f"config error: {exc}", file=sys.stderr)
        return 2
    print(f"==> отчёт: http://{args.host}:{args.port}/", file=sys.stderr, flush=True)
    if production:
        cmd, extra = gunicorn_command(args.host, args.port, args.workers, args.threads)
        env = {**os.environ, **extra, "REPORT_DATA_DIR": str(data)}
        if args.config:
            env["REPORT_CONFIG"] = str(Path(args.config).resolve())
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")]))
        os.chdir(REPO_ROOT)
        os.execvpe(cmd[0], cmd, env)  # gunicorn replaces this process: signals reach it directly
    app.run(host=args.host, port=args.port, debug=args.debug)
    return 0
