"""Benchmark of the metric layer on synthetic accounts, and a cross-check against DuckDB SQL.

    .venv/bin/python bench/metrics.py                       # 1-year (~100k deals) and 5-year accounts
    .venv/bin/python bench/metrics.py --years 1 --repeat 7  # one account only
    .venv/bin/python bench/metrics.py --work /tmp/mbench    # where raw exports and snapshots are kept

For each account (``bench.accounts.ensure_snapshot``: generated with ``etl.simulated.synth`` and built
with ``etl.transform.build``, both kept under ``--work`` and reused when present) and each period (the last full month, the last 365 days):
- each tab's full metric set, median of ``--repeat`` runs: *first* (a fresh process: nothing of
  ``report.metrics.access`` kept, the tables decoded from parquet, in the OS page cache), *cold*
  (filters not seen before in a running process: the decoded tables kept, the period reads
  forgotten; no metric cache) and *cached* (``report.cache.MetricCache``, filled once);
- six metrics written again in DuckDB SQL over the same parquet files: results must be equal
  (``polars.testing.assert_frame_equal``), and the polars/DuckDB time ratio is reported.

Targets (issue 4): ratio ≤ 1.0; each tab cold ≤ 300 ms at one year and ≤ 1 s at five years;
cached ≤ 30 ms. DuckDB is a bench-only dependency (requirements-dev.txt).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import polars as pl
from polars.testing import assert_frame_equal

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.accounts import END, ensure_snapshot  # noqa: E402
from etl.snapshot.store import Snapshot  # noqa: E402
from report.cache import MetricCache  # noqa: E402
from report.metrics import kept  # noqa: E402
from report.metrics.filters import Filters  # noqa: E402
from report.metrics.periods import period_utc  # noqa: E402
from report.metrics.registry import get  # noqa: E402

TARGET_COLD_MS = {1: 300.0, 5: 1000.0}
TARGET_CACHED_MS = 30.0


# --- what each tab computes on first display ------------------------------------------------

_TOUCHES = (
    "touches.time_to_first",
    "touches.per_deal",
    "touches.before_contract",
    "touches.before_lost",
    "touches.no_show_to_lost",
    "touches.negative_status",
    "touches.interval",
    "calls.by_manager",
    "tasks.by_manager",
    "tasks.day_gaps",
)
#: Tab → the metrics it shows (the set the views showed when this bench was written; kept here so
#: that timings stay comparable across layout changes). Each runs without a breakdown, but for
#: the leaderboard (by manager), the office load (by city) and the time tab's heat map (by city).
TAB_CALLS: dict[str, tuple[tuple[str, tuple[str, ...]], ...]] = {
    "funnels": tuple(
        (m, ())
        for m in (
            "funnel.cohort",
            "funnel.flow",
            "deals.status_as_of",
            "deals.created",
            "bookings.count",
            "consultations.attendance",
            "conversion.attended_to_contract",
            "deals.averages",
        )
    ),
    "time": (
        *(
            (m, ())
            for m in (
                "time.stage_to_stage",
                "time.creation_to_contract",
                "time.rebooking",
                "time.phone_to_consultation",
                "time.no_answer_to_close",
                "time.request_to_won",
                "time.to_first_touch",
                "bookings.before_contract",
                "bookings.before_contract.distribution",
            )
        ),
        ("time.stage_to_stage", ("city",)),
    ),
    "touches_all": (*((m, ()) for m in _TOUCHES), ("quality.panel", ()), ("managers.leaderboard", ("manager",))),
    "touches_office": (
        *((m, ()) for m in _TOUCHES),
        ("managers.leaderboard", ("manager",)),
        ("office.load", ("city",)),
    ),
}


# --- DuckDB versions of six metrics (same definitions, same filters: none but the period) -----

STAGES = [
    "lead",
    "phone",
    "booked",
    "attended",
    "contract",
    "won",
    "not_booked",
    "no_answer",
    "no_show",
    "lost",
    "other",
]
STAGES_SQL = ", ".join(f"('{s}', {i})" for i, s in enumerate(STAGES))


def _rate(num: str, den: str) -> str:
    return f"CASE WHEN ({den}) > 0 THEN CAST({num} AS DOUBLE) / ({den}) END"


def sql_funnel_cohort(p: dict[str, str]) -> str:
    funnel = ["lead", "phone", "booked", "attended", "contract"]
    reached = ", ".join(["count(*) AS lead"] + [f"count(reach_{s}) AS {s}" for s in funnel[1:]])
    return f"""
    WITH d AS (SELECT stage, reach_phone, reach_booked, reach_attended, reach_contract FROM read_parquet('{p["deals"]}')
               WHERE NOT is_deleted AND created_at >= $s AND created_at < $e),
    stages(stage, ord) AS (VALUES {STAGES_SQL}),
    r AS (UNPIVOT (SELECT {reached} FROM d) ON lead, phone, booked, attended, contract INTO NAME stage VALUE reached),
    c AS (SELECT stage, count(*) AS current FROM d GROUP BY stage),
    j AS (SELECT s.stage, s.ord, r.reached, coalesce(c.current, 0) AS current,
                 (SELECT count(*) FROM d) AS lead_n
          FROM stages s LEFT JOIN r USING (stage) LEFT JOIN c USING (stage))
    SELECT stage, reached,
           CASE WHEN ord < 4 THEN reached - lead(reached) OVER (ORDER BY ord) END AS dropped,
           CASE WHEN ord BETWEEN 1 AND 4 THEN {_rate("reached", "lag(reached) OVER (ORDER BY ord)")} END AS conv_prev,
           CASE WHEN ord <= 4 THEN {_rate("reached", "lead_n")} END AS conv_lead,
           current
    FROM j ORDER BY ord"""


def sql_funnel_flow(p: dict[str, str]) -> str:
    return f"""
    WITH stages(stage, ord) AS (VALUES {STAGES_SQL}),
    a AS (SELECT 'lead' AS stage, count(*) AS entries FROM read_parquet('{p["deals"]}')
          WHERE NOT is_deleted AND created_at >= $s AND created_at < $e
          UNION ALL
          SELECT stage, count(*) FROM read_parquet('{p["entries"]}')
          WHERE NOT is_deleted AND is_stage_entry AND stage <> 'lead' AND "at" >= $s AND "at" < $e GROUP BY stage),
    j AS (SELECT s.stage, s.ord, coalesce(a.entries, 0) AS entries FROM stages s LEFT JOIN a USING (stage))
    SELECT stage, entries,
           CASE WHEN ord BETWEEN 1 AND 4 THEN {_rate("entries", "lag(entries) OVER (ORDER BY ord)")} END AS conv_prev
    FROM j ORDER BY ord"""


def sql_stage_to_stage(p: dict[str, str]) -> str:
    funnel = ["lead", "phone", "booked", "attended", "contract"]
    parts = []
    for i, (a, b) in enumerate(zip(funnel[:-1], funnel[1:], strict=True)):
        parts.append(
            f"SELECT '{a}→{b}' AS transition, {i + 1} AS ord, "
            f"(epoch_us(reach_{b}) - epoch_us(reach_{a})) / 1e6 AS d FROM d WHERE reach_{b} >= $s AND reach_{b} < $e"
        )
    return f"""
    WITH d AS (SELECT reach_lead, reach_phone, reach_booked, reach_attended, reach_contract
               FROM read_parquet('{p["deals"]}') WHERE NOT is_deleted),
    x AS ({" UNION ALL ".join(parts)})
    SELECT transition, count(*) AS n, avg(d) AS mean_s, median(d) AS median_s, quantile_cont(d, 0.9) AS p90_s
    FROM x WHERE d >= 0 GROUP BY transition, ord ORDER BY ord"""


def sql_before_lost(p: dict[str, str]) -> str:
    return f"""
    WITH lost AS (SELECT deal_id, min("at") AS lost_at FROM read_parquet('{p["entries"]}')
                  WHERE NOT is_deleted AND is_stage_entry AND stage = 'lost' AND "at" >= $s AND "at" < $e GROUP BY deal_id),
    t AS (SELECT t.deal_id, count(*) AS touches,
                 count(*) FILTER (WHERE kind IN ('call_in', 'call_out')) AS calls,
                 count(*) FILTER (WHERE kind IN ('sms_in', 'sms_out')) AS sms
          FROM read_parquet('{p["touches"]}') t JOIN lost l ON t.deal_id = l.deal_id
          WHERE NOT t.is_deleted AND t."at" <= l.lost_at GROUP BY t.deal_id)
    SELECT count(*) AS n, avg(coalesce(touches, 0)) AS mean_touches, avg(coalesce(calls, 0)) AS mean_calls,
           avg(coalesce(sms, 0)) AS mean_sms
    FROM lost LEFT JOIN t USING (deal_id)"""


def sql_calls_by_manager(p: dict[str, str]) -> str:
    return f"""
    WITH c AS (SELECT user_id, kind, duration_s, answered FROM read_parquet('{p["touches"]}')
               WHERE NOT coalesce(is_deleted, false) AND kind IN ('call_in', 'call_out') AND "at" >= $s AND "at" < $e),
    g AS (SELECT user_id, count(*) FILTER (WHERE kind = 'call_in') AS incoming,
                 count(*) FILTER (WHERE kind = 'call_out') AS outgoing,
                 count(*) FILTER (WHERE answered) AS answered, sum(duration_s) AS total_duration_s,
                 avg(duration_s) FILTER (WHERE answered) AS mean_answered_s
          FROM c GROUP BY user_id)
    SELECT coalesce(u.name, 'id ' || g.user_id) AS manager, incoming, outgoing, answered, total_duration_s, mean_answered_s
    FROM g LEFT JOIN read_parquet('{p["users"]}') u USING (user_id) ORDER BY g.user_id NULLS LAST"""


def sql_day_gaps(p: dict[str, str], tz: str) -> str:
    return f"""
    WITH t AS (SELECT t.user_id, t.completed_at, coalesce(u.tz, '{tz}') AS tz
               FROM read_parquet('{p["tasks"]}') t LEFT JOIN read_parquet('{p["users"]}') u USING (user_id)
               WHERE NOT coalesce(t.is_deleted, false) AND t.completed_at >= $s AND t.completed_at < $e),
    l AS (SELECT user_id, completed_at, CAST(timezone(tz, completed_at) AS DATE) AS day FROM t),
    g AS (SELECT user_id, (epoch_us(completed_at)
                 - epoch_us(lag(completed_at) OVER (PARTITION BY user_id, day ORDER BY completed_at))) / 1e6 AS d FROM l)
    SELECT coalesce(u.name, 'id ' || g.user_id) AS manager, count(*) AS n, avg(d) AS mean_s, median(d) AS median_s
    FROM g LEFT JOIN read_parquet('{p["users"]}') u USING (user_id)
    WHERE d IS NOT NULL AND d >= 0 GROUP BY g.user_id, u.name ORDER BY g.user_id"""


DUCK: dict[str, tuple[tuple[str, ...], Callable[..., str]]] = {
    "funnel.cohort": ((), sql_funnel_cohort),
    "funnel.flow": ((), sql_funnel_flow),
    "time.stage_to_stage": ((), sql_stage_to_stage),
    "touches.before_lost": ((), sql_before_lost),
    "calls.by_manager": (("manager",), sql_calls_by_manager),
    "tasks.day_gaps": (("manager",), sql_day_gaps),
}


# --- timing ------------------------------------------------------------------------------------


def timed(fn: Callable[[], object], repeat: int) -> tuple[float, object]:
    """Median wall time in ms over ``repeat`` runs (after one warm-up run) and the last result."""
    result = fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times), result


def alone(snap: Snapshot, mid: str, f: Filters, by: tuple[str, ...] = ()) -> pl.DataFrame:
    """One metric on its own, cold: the period reads of other metrics (and of its last run)
    forgotten, the decoded tables kept."""
    kept.forget()
    return get(mid).fn(snap, f, by)


def tab_filters(tab: str, f: Filters) -> Filters:
    return f.with_(channel="office") if tab == "touches_office" else f


class _Lines(list):
    """Lines of the report, printed as they come."""

    def append(self, line: str) -> None:
        print(line, flush=True)
        super().append(line)


def bench_account(snap: Snapshot, years: int, repeat: int, label: str) -> list[str]:
    import duckdb

    lines: list[str] = _Lines()
    last_month_end = date(END.year, END.month, 1) - timedelta(days=1)
    periods = {
        "month": Filters(last_month_end.replace(day=1), last_month_end, grain="day"),
        "year": Filters(last_month_end - timedelta(days=364), last_month_end, grain="month"),
    }
    counts = snap.row_counts
    lines.append(
        f"\n## {years}-year account, {label}: snapshot {snap.id}: "
        + ", ".join(f"{k} {counts.get(k, 0):,}" for k in ("deals", "entries", "touches", "tasks"))
    )
    target = TARGET_COLD_MS.get(years, 1000.0)
    for pname, f in periods.items():
        lines.append(f"\nperiod {pname}: {f.date_from} … {f.date_to}")
        lines.append(
            f"{'tab':<16}{'metrics':>8}{'first ms':>10}{'cold ms':>10}{'cached ms':>11}"
            f"   targets: cold ≤ {target:.0f}, cached ≤ {TARGET_CACHED_MS:.0f}"
        )
        with tempfile.TemporaryDirectory() as tmp:
            cache = MetricCache(Path(tmp) / "cache", 256 * 2**20)
            for tab, calls in TAB_CALLS.items():
                ff = tab_filters(tab, f)

                def first(calls=calls, ff=ff):
                    kept.forget(tables=True)  # a fresh worker: nothing decoded yet
                    return [get(mid).fn(snap, ff, by) for mid, by in calls]

                def cold(calls=calls, ff=ff):
                    kept.forget()  # filters not seen before: the tables are decoded, not the period
                    return [get(mid).fn(snap, ff, by) for mid, by in calls]

                def cached(calls=calls, ff=ff, cache=cache):
                    return [cache.compute(snap, mid, ff, by) for mid, by in calls]

                first_ms, _ = timed(first, repeat)
                cold_ms, _ = timed(cold, repeat)
                cached_ms, _ = timed(cached, repeat)
                flag = "" if cold_ms <= target and cached_ms <= TARGET_CACHED_MS else "   MISSED"
                lines.append(f"{tab:<16}{len(calls):>8}{first_ms:>10.0f}{cold_ms:>10.0f}{cached_ms:>11.1f}{flag}")
            shown = dict.fromkeys(mid for tab in ("funnels", "time", "touches_all") for mid, _ in TAB_CALLS[tab])
            slowest = sorted(
                ((timed(lambda mid=mid, f=f: alone(snap, mid, f), 3)[0], mid) for mid in shown), reverse=True
            )[:5]
            lines.append("slowest metrics (ms): " + ", ".join(f"{mid} {ms:.0f}" for ms, mid in slowest))

        # DuckDB cross-check
        paths = {t: str(snap.path / f"{t}.parquet") for t in ("deals", "entries", "touches", "tasks", "users")}
        start, end = period_utc(f, snap.timezone)
        con = duckdb.connect()
        con.execute("SET TimeZone = 'UTC'")
        con.execute("SET threads = 2")
        # the same queries over DuckDB's own in-memory tables (loaded once, as polars keeps its columns)
        for t, path in paths.items():
            con.execute(f"CREATE TABLE mem_{t} AS SELECT * FROM read_parquet('{path}')")
        lines.append(
            f"{'metric (vs DuckDB)':<24}{'polars ms':>10}{'duckdb ms':>10}{'ratio':>8}"
            f"{'in-mem ms':>10}{'ratio':>8}  equal"
        )
        for mid, (by, make_sql) in DUCK.items():
            sql = make_sql(paths, snap.timezone) if mid == "tasks.day_gaps" else make_sql(paths)
            mem_sql = sql
            for t, path in paths.items():
                mem_sql = mem_sql.replace(f"read_parquet('{path}')", f"mem_{t}")
            pms, pdf = timed(lambda mid=mid, by=by, f=f: alone(snap, mid, f, by), repeat)
            params = {"s": start, "e": end}
            dms, ddf = timed(lambda sql=sql, con=con, params=params: con.execute(sql, params).pl(), repeat)
            mms, mdf = timed(lambda sql=mem_sql, con=con, params=params: con.execute(sql, params).pl(), repeat)
            assert_frame_equal(pdf, ddf, check_dtypes=False, rel_tol=1e-9, abs_tol=1e-6)
            assert_frame_equal(pdf, mdf, check_dtypes=False, rel_tol=1e-9, abs_tol=1e-6)
            worst = max(pms / dms, pms / mms)
            lines.append(
                f"{mid:<24}{pms:>10.1f}{dms:>10.1f}{pms / dms:>8.2f}{mms:>10.1f}{pms / mms:>8.2f}"
                f"  yes{'' if worst <= 1.0 else '   MISSED'}"
            )
        con.close()
    return lines


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--years", type=int, action="append", help="account sizes in years (default: 1 and 5)")
    ap.add_argument("--deals-per-year", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "report-metrics-bench")
    args = ap.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    out = [
        f"# bench/metrics.py — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, polars {pl.__version__}, repeat {args.repeat}"
    ]
    for years in args.years or [1, 5]:
        print(f"preparing the {years}-year account …", flush=True)
        snap = ensure_snapshot(args.work, years, args.deals_per_year, args.seed)
        out += bench_account(snap, years, args.repeat, "as built")
    return 0


if __name__ == "__main__":
    sys.exit(main())
