"""``python -m report export METRIC_ID …``: a metric's table without the browser (METRICS.md,
"Export contract"), as JSON records or CSV on stdout.

``--compare previous|year`` adds the ``<column>_prev`` columns (report.metrics.compare).
``--hours business`` counts the durations of a duration metric (one declared ``hours=True``) in
working time (docs/metrics.md, "Business hours"); other metrics refuse it rather than give
numbers that look switched but are not.
``python -m report export deals.list --metric METRIC_ID [--column C] [--stage S] [--status S]
[--group KEY=VALUE]…`` lists the deals behind one number (report.metrics.drill); ``--by`` and
``--compare`` do not apply to it.

Bad input (unknown metric, city or manager, a bad date, an unusable snapshot or raw export) gives
one clear line on stderr and exit code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
from datetime import date
from pathlib import Path

import polars as pl

from etl.config import ConfigError, load_config, normalize_name
from etl.snapshot.store import CURRENT, Snapshot, SnapshotError, open_current
from report.metrics.compare import MODES, compare
from report.metrics.drill import GROUP_KEYS, deal_list
from report.metrics.filters import CHANNEL_FILTERS, GRAINS, HOURS, Filters
from report.metrics.registry import Metric, all_metrics
from report.metrics.shaping import MetricInputError

BY_CHOICES = ("city", "manager", "channel", "bucket", "package")
DEALS_LIST = "deals.list"
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class ExportError(Exception):
    """Bad input; the message is shown as is."""


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m report export",
        description="Export one metric's table (METRICS.md, export contract) as JSON records or CSV.",
    )
    p.add_argument("metric", metavar="METRIC_ID", help="metric id, e.g. funnel.cohort")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--snapshot", metavar="DIR", help="a snapshot folder, or a snapshots folder with CURRENT")
    src.add_argument("--raw", metavar="DIR", help="a raw export folder: build a snapshot from it first")
    p.add_argument("--config", metavar="FILE", help="config for --raw (default: the repository's config.yaml)")
    p.add_argument("--from", dest="date_from", required=True, metavar="YYYY-MM-DD")
    p.add_argument("--to", dest="date_to", required=True, metavar="YYYY-MM-DD")
    p.add_argument("--city", action="append", default=[], metavar="NAME")
    p.add_argument("--manager", action="append", default=[], metavar="NAME")
    p.add_argument("--channel", default="all", choices=CHANNEL_FILTERS)
    p.add_argument("--by", action="append", default=[], choices=BY_CHOICES)
    p.add_argument("--grain", default="month", choices=GRAINS)
    p.add_argument("--as-of", dest="as_of", metavar="YYYY-MM-DD")
    p.add_argument("--format", default="json", choices=("json", "csv"))
    p.add_argument(
        "--hours", default="calendar", choices=HOURS, help="duration metrics: every second, or working time only"
    )
    p.add_argument("--compare", choices=MODES, help="add <column>_prev from the previous period or a year earlier")
    drill = p.add_argument_group("deals.list (the deals behind a number)")
    drill.add_argument("--metric", dest="drill_metric", metavar="METRIC_ID", help="the metric whose number is drilled")
    drill.add_argument("--column", help="the count column (default: the metric's main count)")
    drill.add_argument("--stage")
    drill.add_argument("--status", help="deals.status_as_of: the status name")
    drill.add_argument("--group", action="append", default=[], metavar="KEY=VALUE", help="a breakdown value clicked")
    return p


def _date(value: str, flag: str) -> date:
    if _DATE.match(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise ExportError(f"{flag} {value!r}: not a date; expected YYYY-MM-DD")


def _metric(metric_id: str) -> Metric:
    metrics = all_metrics()
    if metric_id not in metrics:
        raise ExportError(f"unknown metric {metric_id!r}; known: {', '.join(sorted(metrics))}")
    return metrics[metric_id]


def open_snapshot(folder: Path) -> Snapshot:
    """A snapshot folder, a snapshots folder with CURRENT, or a data folder holding ``snapshots/``."""
    if (folder / "manifest.json").is_file():
        return Snapshot.open(folder)
    for candidate in (folder, folder / "snapshots"):
        if (candidate / CURRENT).is_file():
            return open_current(candidate)
    raise ExportError(f"--snapshot {folder}: neither a snapshot (no manifest.json) nor a snapshots folder (no CURRENT)")


def _cities(snap: Snapshot, wanted: list[str]) -> tuple[str, ...]:
    known = snap.scan("cities").select("city").collect()["city"].to_list()
    by_key = {normalize_name(c): c for c in known}
    out = []
    for name in wanted:
        if normalize_name(name) not in by_key:
            raise ExportError(f"--city {name!r}: unknown city; known: {', '.join(sorted(known))}")
        out.append(by_key[normalize_name(name)])
    return tuple(out)


def _managers(snap: Snapshot, wanted: list[str]) -> tuple[int, ...]:
    users = snap.scan("users").select("user_id", "name").collect()
    ids: list[int] = []
    for name in wanted:
        key = normalize_name(name)
        match = [r["user_id"] for r in users.to_dicts() if normalize_name(r["name"] or "") == key]
        if not match and name.strip().isdigit() and int(name) in users["user_id"].to_list():
            match = [int(name)]
        if not match:
            raise ExportError(
                f"--manager {name!r}: no user with this name; known: {', '.join(sorted(users['name'].drop_nulls()))}"
            )
        ids.extend(match)
    return tuple(ids)


def _build_from_raw(raw: Path, config_path: str | None, data_dir: Path) -> Snapshot:
    from etl.transform.build import BuildError, build_snapshot

    if not raw.is_dir():
        raise ExportError(f"--raw {raw}: no such folder")
    try:
        config = load_config(config_path)
        folder = build_snapshot(raw, config, data_dir)
    except (BuildError, ConfigError) as exc:
        raise ExportError(f"--raw {raw}: cannot build a snapshot: {exc}") from exc
    return Snapshot.open(folder)


def render(df: pl.DataFrame, fmt: str) -> str:
    """JSON: a list of records; CSV with a header. Dates as YYYY-MM-DD, times (UTC) as
    YYYY-MM-DDTHH:MM:SSZ, nulls as null / empty."""
    df = df.with_columns(
        pl.col(pl.Date).dt.strftime("%Y-%m-%d"),
        pl.col(pl.Datetime).dt.convert_time_zone("UTC").dt.strftime("%Y-%m-%dT%H:%M:%SZ"),
    )
    if fmt == "csv":
        return df.write_csv()
    return json.dumps(df.to_dicts(), ensure_ascii=False, indent=1) + "\n"


def _groups(pairs: list[str]) -> dict[str, str]:
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or key not in GROUP_KEYS:
            raise ExportError(f"--group {pair!r}: expected KEY=VALUE with KEY one of {', '.join(GROUP_KEYS)}")
        out[key] = value
    return out


def _table(args: argparse.Namespace, snap: Snapshot, filters: Filters) -> pl.DataFrame:
    """The metric's table (with ``_prev`` columns on ``--compare``), or the deals behind a number."""
    if args.metric == DEALS_LIST:
        return deal_list(
            snap,
            filters,
            args.drill_metric,
            column=args.column,
            stage=args.stage,
            status=args.status,
            group=_groups(args.group),
        )
    metric = _metric(args.metric)
    if args.compare:
        return compare(metric.fn, snap, filters, tuple(args.by), args.compare)
    return metric.fn(snap, filters, tuple(args.by))


def _check_drill(args: argparse.Namespace) -> None:
    if args.metric != DEALS_LIST:
        if args.drill_metric or args.column or args.stage or args.status or args.group:
            raise ExportError("--metric, --column, --stage, --status and --group are for deals.list only")
        return
    if not args.drill_metric:
        raise ExportError("deals.list needs --metric METRIC_ID (the metric whose number is drilled)")
    if args.by or args.compare:
        raise ExportError("deals.list takes --group KEY=VALUE, not --by or --compare")


def run(args: argparse.Namespace) -> str:
    _check_drill(args)
    metric = _metric(args.metric) if args.metric != DEALS_LIST else None
    date_from, date_to = _date(args.date_from, "--from"), _date(args.date_to, "--to")
    as_of = _date(args.as_of, "--as-of") if args.as_of else None
    if date_from > date_to:
        raise ExportError(f"--from {date_from} is after --to {date_to}")
    bad = [b for b in args.by if metric and b not in metric.breakdowns]
    if metric and bad:
        raise ExportError(
            f"--by {', '.join(bad)}: {metric.id} cannot be broken down so; supported: {', '.join(metric.breakdowns) or 'nothing'}"
        )
    if args.hours != "calendar" and not (metric and metric.hours):
        durations = ", ".join(sorted(m.id for m in all_metrics().values() if m.hours))
        raise ExportError(f"--hours {args.hours}: {args.metric} counts no durations; duration metrics: {durations}")
    if args.config and not args.raw:
        raise ExportError("--config is only used with --raw")

    with tempfile.TemporaryDirectory(prefix="report-export-") as tmp:
        if args.raw:
            snap = _build_from_raw(Path(args.raw), args.config, Path(tmp))
        else:
            try:
                snap = open_snapshot(Path(args.snapshot))
            except SnapshotError as exc:
                raise ExportError(f"--snapshot {args.snapshot}: {exc}") from exc
        filters = Filters(
            date_from=date_from,
            date_to=date_to,
            grain=args.grain,
            cities=_cities(snap, args.city),
            managers=_managers(snap, args.manager),
            channel=args.channel,
            as_of=as_of,
            hours=args.hours,
        )
        try:
            df = _table(args, snap, filters)
        except MetricInputError as exc:
            raise ExportError(str(exc)) from exc
        return render(df, args.format)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:  # argparse printed its message (exit 2) or the help (exit 0)
        return int(exc.code or 0)
    try:
        out = run(args)
    except ExportError as exc:
        print(f"export: {exc}", file=sys.stderr)
        return 2
    sys.stdout.write(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
