"""What every metric shares: the one filter function, periods and buckets in the report time
zone, duration statistics, rates, and shaping the output (group columns first, manager names).

Metrics build a LazyFrame of "items" (deals, entries, touches, tasks) that carries the group
columns ``city``, ``channel``, ``manager`` (a user id until :func:`finish` names it) and a time
column for ``bucket``, then aggregate with :func:`aggregate`.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import polars as pl

from etl.config import ALL_STAGES, FUNNEL_STAGES, STAGE_POSITION
from etl.snapshot.store import Snapshot
from etl.transform.facts import DEAL_COLS, next_at, prev_touch_at, with_deal_extras
from report.metrics.filters import Filters

UTC = ZoneInfo("UTC")
CALL_KINDS = ("call_in", "call_out")
SMS_KINDS = ("sms_in", "sms_out")
OUT_KINDS = ("call_out", "sms_out")
STAGE_ORDER: dict[str, int] = {s: i for i, s in enumerate(ALL_STAGES)}
#: Group columns in their fixed output order.
GROUP_ORDER: tuple[str, ...] = ("city", "manager", "channel", "bucket", "package")

_TRUNCATE = {"day": None, "week": "1w", "month": "1mo", "quarter": "1q", "year": "1y"}


class MetricInputError(ValueError):
    """A metric was asked for something it cannot answer (e.g. an unsupported breakdown)."""


def day_start_utc(day: date, tz: str) -> datetime:
    """00:00 of ``day`` in ``tz``, as an aware UTC datetime."""
    return datetime.combine(day, time(0), tzinfo=ZoneInfo(tz)).astimezone(UTC)


def period_utc(filters: Filters, tz: str) -> tuple[datetime, datetime]:
    """The period as a half-open UTC interval [date_from 00:00, date_to+1 00:00) of the report tz."""
    return day_start_utc(filters.date_from, tz), day_start_utc(filters.date_to + timedelta(days=1), tz)


def as_of_end_utc(filters: Filters, tz: str) -> datetime:
    """End of the as-of day (exclusive) in UTC."""
    return day_start_utc(filters.effective_as_of + timedelta(days=1), tz)


def in_period(col: str, filters: Filters, tz: str) -> pl.Expr:
    start, end = period_utc(filters, tz)
    return (pl.col(col) >= start) & (pl.col(col) < end)


def apply_filters(
    lf: pl.LazyFrame,
    filters: Filters,
    tz: str,
    *,
    time_col: str | None = None,
    manager_col: str = "manager",
    city_col: str = "city",
    channel_col: str = "channel",
    deleted_col: str = "is_deleted",
) -> pl.LazyFrame:
    """THE filter function: deleted rows out, then cities, managers, pipeline class and the period.

    Rows without a deal (unattributed touches, tasks on contacts) have null city/channel/deleted:
    they survive the deleted filter, and any city or channel filter drops them (they have neither).
    ``time_col`` None means the metric has no period on this frame (e.g. as-of metrics).
    """
    cond = pl.col(deleted_col).fill_null(False).not_()
    if filters.cities:
        cond = cond & pl.col(city_col).is_in(list(filters.cities))
    if filters.managers:
        cond = cond & pl.col(manager_col).is_in(list(filters.managers))
    if filters.channel != "all":
        cond = cond & (pl.col(channel_col) == filters.channel)
    if time_col is not None:
        cond = cond & in_period(time_col, filters, tz)
    return lf.filter(cond)


@lru_cache(maxsize=512)
def _columns(path: str) -> frozenset[str]:
    return frozenset(pl.scan_parquet(path).collect_schema().names())


def has_columns(snap: Snapshot, table: str, columns: Sequence[str]) -> bool:
    """Whether the snapshot's table carries these (derived) columns; a snapshot never changes."""
    return set(columns) <= _columns(str(snap.path / f"{table}.parquet"))


def deals(
    snap: Snapshot, filters: Filters, columns: Sequence[str], *, time_col: str | None = "created_at"
) -> pl.LazyFrame:
    """Filtered deals with ``manager`` = responsible user; ``time_col`` None = no period filter.
    Derived per-deal columns (etl.transform.facts) are computed here when the build did not."""
    cols = ["deal_id", "city", "channel", "user_id", "is_deleted", *columns]
    if time_col:
        cols.append(time_col)
    cols = list(dict.fromkeys(cols))
    tz = snap.timezone
    derived = [c for c in cols if c in DEAL_COLS]
    if time_col == "created_at" and set(cols) <= set(KEPT_DEAL_COLS) and has_columns(snap, "deals", KEPT_DEAL_COLS):
        lf = period_deals(snap, filters).select(cols).rename({"user_id": "manager"})
        return apply_filters(lf, filters, tz, time_col=time_col)
    if not derived or has_columns(snap, "deals", derived):
        lf = snap.scan("deals").select(cols).rename({"user_id": "manager"})
        return apply_filters(lf, filters, tz, time_col=time_col)
    # Fallback: derive the per-deal facts now, only for the deals that can be in the result.
    plain = [c for c in cols if c not in DEAL_COLS]
    base = snap.scan("deals").select(plain).rename({"user_id": "manager"})
    if time_col in DEAL_COLS:  # an entry-derived time in the period needs an entry in the period
        base = apply_filters(base, filters, tz)
        moved = snap.scan("entries").select("deal_id", "at").filter(in_period("at", filters, tz))
        base = base.join(moved.select("deal_id").unique(), on="deal_id", how="semi")
    else:
        base = apply_filters(base, filters, tz, time_col=time_col)
    base = base.collect()
    # a literal id list lets the parquet reader decode the other columns only for matching rows
    ids = base["deal_id"].implode()
    ent = snap.scan("entries").filter(pl.col("deal_id").is_in(ids))
    tou = touches_of(snap, base["deal_id"], ["kind", "at", "deal_created_at"])
    lf = with_deal_extras(base.lazy(), ent, tou).select(["manager" if c == "user_id" else c for c in cols])
    return lf.filter(in_period(time_col, filters, tz)) if time_col in DEAL_COLS else lf


#: The deal columns :func:`period_deals` keeps (the ones the touches and time tabs read).
KEPT_DEAL_COLS = (
    "deal_id",
    "city",
    "channel",
    "user_id",
    "is_deleted",
    "created_at",
    "reach_contract",
    "first_out_at",
    "n_touches",
    "n_calls",
    "n_sms",
)


def period_deals(snap: Snapshot, filters: Filters) -> pl.LazyFrame:
    """Deals created in the period, deleted out, city and pipeline-class filters applied (not the
    manager filter), columns :data:`KEPT_DEAL_COLS` (``user_id`` not renamed); decoded once per
    filter choice (see :func:`kept`) for the several deal metrics of a view."""
    base = Filters(filters.date_from, filters.date_to, cities=filters.cities, channel=filters.channel)
    lf = snap.scan("deals").select(KEPT_DEAL_COLS)

    def compute() -> pl.DataFrame:
        return apply_filters(lf, base, snap.timezone, time_col="created_at", manager_col="user_id").collect()

    return kept(("period_deals", str(snap.path), base), compute).lazy()


def entries(
    snap: Snapshot, filters: Filters, columns: Sequence[str], *, period: bool = True, before_end: bool = False
) -> pl.LazyFrame:
    """Filtered entries (``manager`` = the deal's responsible user).

    ``period``: only entries in the period. ``before_end``: only entries before the period's end
    (for metrics that need a deal's history up to an event in the period).
    """
    cols = list(dict.fromkeys(["deal_id", "at", "city", "channel", "deal_user_id", "is_deleted", *columns]))
    lf = snap.scan("entries")
    if "next_at" in cols and not has_columns(snap, "entries", ["next_at"]):
        lf = lf.with_columns(next_at())
    lf = lf.select(cols).rename({"deal_user_id": "manager"})
    lf = apply_filters(lf, filters, snap.timezone, time_col="at" if period else None)
    if before_end and not period:
        lf = lf.filter(pl.col("at") < period_utc(filters, snap.timezone)[1])
    return lf


def status_entries(
    snap: Snapshot, filters: Filters, end: datetime, columns: Sequence[str], deal_ids: pl.Series | None = None
) -> pl.LazyFrame:
    """Each (filtered) deal's status entry at ``end``: its last entry before ``end``. With the
    build's ``next_at`` that is a filter; else the entry with the highest ``seq`` before ``end``.
    ``deal_ids`` restricts the deals (read only their rows)."""
    if has_columns(snap, "entries", ["next_at"]):
        ent = entries(snap, filters, [*columns, "next_at"], period=False)
        if deal_ids is not None:
            ent = ent.filter(pl.col("deal_id").is_in(deal_ids.implode()))
        return ent.filter((pl.col("at") < end) & (pl.col("next_at").is_null() | (pl.col("next_at") >= end)))
    ent = entries(snap, filters, [*columns, "seq"], period=False).filter(pl.col("at") < end)
    if deal_ids is not None:
        ent = ent.filter(pl.col("deal_id").is_in(deal_ids.implode()))
    ent = ent.collect().lazy()
    return ent.join(ent.group_by("deal_id").agg(pl.col("seq").max()), on=["deal_id", "seq"], how="semi")


#: The touch columns :func:`period_touches` keeps (``prev_at`` too when the build wrote it).
PERIOD_TOUCH_COLS = (
    "deal_id",
    "kind",
    "at",
    "duration_s",
    "answered",
    "user_id",
    "city",
    "channel",
    "is_deleted",
    "deal_user_id",
)


@lru_cache(maxsize=2)
def _period_touches(
    path: str, tz: str, date_from: date, date_to: date, cities: tuple[str, ...], channel: str, prev_at: bool
) -> pl.DataFrame:
    cols = [*PERIOD_TOUCH_COLS, "prev_at"] if prev_at else list(PERIOD_TOUCH_COLS)
    filters = Filters(date_from, date_to, cities=cities, channel=channel)
    return apply_filters(pl.scan_parquet(path).select(cols), filters, tz, time_col="at").collect()


def period_touches(snap: Snapshot, filters: Filters) -> pl.LazyFrame:
    """Touches in the period, deleted deals out, city and pipeline-class filters applied (not the
    manager filter: metrics differ on whose touch it is), columns :data:`PERIOD_TOUCH_COLS`.

    Several metrics of one view read these rows: they are decoded once per filter choice and kept
    for the next calls (the last two choices; a snapshot never changes). Callers still apply the
    full filters with :func:`apply_filters` (filtering again is a no-op but for managers)."""
    path = snap.path / "touches.parquet"
    prev_at = has_columns(snap, "touches", ["prev_at"])
    args = (filters.date_from, filters.date_to, filters.cities, filters.channel)
    return _period_touches(str(path), snap.timezone, *args, prev_at).lazy()


_KEPT: OrderedDict[tuple, pl.DataFrame] = OrderedDict()
_KEPT_LOCK = threading.Lock()
_KEPT_MAX = 6


def kept(key: tuple, compute: Callable[[], pl.DataFrame]) -> pl.DataFrame:
    """``compute()``, remembered under ``key`` for the next metrics of the same view (the last
    few keys only). ``key`` must name the snapshot (its path: a snapshot never changes) and every
    input of ``compute``."""
    with _KEPT_LOCK:
        hit = _KEPT.get(key)
        if hit is not None:
            _KEPT.move_to_end(key)
            return hit
    df = compute()
    with _KEPT_LOCK:
        _KEPT[key] = df
        while len(_KEPT) > _KEPT_MAX:
            _KEPT.popitem(last=False)
    return df


#: The task columns :func:`period_tasks` keeps.
PERIOD_TASK_COLS = (
    "deal_id",
    "user_id",
    "deal_user_id",
    "city",
    "channel",
    "is_deleted",
    "created_at",
    "deadline",
    "is_completed",
    "completed_at",
)


def period_tasks(snap: Snapshot, filters: Filters) -> pl.LazyFrame:
    """Tasks created in the period, deleted deals out, city and pipeline-class filters applied
    (not the manager filter), columns :data:`PERIOD_TASK_COLS`; decoded once per filter choice
    (see :func:`kept`). Callers apply the full filters again, as with :func:`period_touches`."""
    base = Filters(filters.date_from, filters.date_to, cities=filters.cities, channel=filters.channel)
    lf = snap.scan("tasks").select(PERIOD_TASK_COLS)
    key = ("period_tasks", str(snap.path), base)
    return kept(key, lambda: apply_filters(lf, base, snap.timezone, time_col="created_at").collect()).lazy()


def touches_with_prev(snap: Snapshot, filters: Filters, columns: Sequence[str]) -> pl.LazyFrame:
    """Touches in the period with ``prev_at`` (the deal's previous touch), ``manager`` = the deal's
    responsible user. ``prev_at`` is computed here, for the deals touched in the period, when the
    build did not."""
    tz = snap.timezone
    cols = list(dict.fromkeys(["deal_id", "at", "city", "channel", "deal_user_id", "is_deleted", *columns]))
    if has_columns(snap, "touches", ["prev_at"]):
        src = period_touches(snap, filters) if set(cols) <= set(PERIOD_TOUCH_COLS) else snap.scan("touches")
        lf = src.select([*cols, "prev_at"]).rename({"deal_user_id": "manager"})
        return apply_filters(lf, filters, tz, time_col="at").filter(pl.col("deal_id").is_not_null())
    _, end = period_utc(filters, tz)
    lf = snap.scan("touches").select([*cols, "touch_id"]).rename({"deal_user_id": "manager"})
    lf = apply_filters(lf, filters, tz).filter(pl.col("deal_id").is_not_null() & (pl.col("at") < end))
    active = lf.filter(in_period("at", filters, tz)).select("deal_id").unique()
    lf = lf.join(active, on="deal_id", how="semi").with_columns(prev_touch_at())
    return lf.filter(in_period("at", filters, tz)).drop("touch_id")


def deal_touches(snap: Snapshot, columns: Sequence[str] = ("kind", "at")) -> pl.LazyFrame:
    """Touches attributed to a live deal (filters come from the deals they are joined to)."""
    cols = list(dict.fromkeys(["deal_id", *columns]))
    return snap.scan("touches").filter(pl.col("deal_id").is_not_null() & ~pl.col("is_deleted")).select(cols)


def touches_of(
    snap: Snapshot, deal_ids: pl.Series, columns: Sequence[str] = ("kind", "at"), *, oldest: datetime | None = None
) -> pl.LazyFrame:
    """The touches of these deals. Their ``deal_created_at`` is at least the oldest deal's creation,
    and touches are stored in time order, so that bound lets the reader skip older row groups.
    ``oldest``: that creation time when the caller has it (saves reading the deals)."""
    if oldest is None:
        oldest = (
            snap.scan("deals").filter(pl.col("deal_id").is_in(deal_ids.implode())).select(pl.col("created_at").min())
        )
        oldest = oldest.collect().item()
    t = deal_touches(snap, [*columns, "deal_created_at"])
    if oldest is not None:
        t = t.filter(pl.col("deal_created_at") >= oldest)
    return t.filter(pl.col("deal_id").is_in(deal_ids.implode())).select(list(dict.fromkeys(["deal_id", *columns])))


def touch_counts(touches: pl.LazyFrame) -> list[pl.Expr]:
    """Aggregations counting touches, calls and SMS (for a group_by on deal)."""
    return [
        pl.len().alias("touches"),
        pl.col("kind").str.starts_with("call").sum().alias("calls"),
        pl.col("kind").str.starts_with("sms").sum().alias("sms"),
    ]


@lru_cache(maxsize=256)
def _offset_steps(tz: str, start: datetime, end: datetime) -> tuple[tuple[datetime, int], ...] | None:
    """The UTC offset of ``tz`` over [start, end) as steps (from, offset in µs), read from the same
    zone database as ``convert_time_zone`` (hourly samples, each change pinned to the second).
    None for periods over 20 years (not worth the table)."""
    if end <= start or end - start > timedelta(days=366 * 20):
        return None

    def offsets(instants: pl.Series) -> pl.Series:
        local = instants.dt.convert_time_zone(tz)
        return (local.dt.base_utc_offset() + local.dt.dst_offset()).dt.total_microseconds()

    samples = pl.datetime_range(start, end, "1h", time_unit="us", time_zone="UTC", eager=True)
    if samples[-1] != end:  # a period not a whole number of hours long: its end is a sample too
        samples.append(pl.Series([end], dtype=samples.dtype))
    off = offsets(samples)
    steps = [(start, int(off[0]))]
    for i in (off.diff() != 0).arg_true().to_list():  # a change within (samples[i-1], samples[i]]
        secs = pl.datetime_range(samples[i - 1], samples[i], "1s", time_unit="us", time_zone="UTC", eager=True)
        at = int((offsets(secs) != off[i - 1]).arg_true()[0])
        steps.append((secs[at], int(off[i])))
    return tuple(steps)


def bucket_expr(col: str, grain: str, tz: str, days: tuple[date, date] | None = None) -> pl.Expr:
    """The bucket's first date (pl.Date) of a UTC timestamp, in ``tz``: day, ISO week (Monday),
    month, quarter or year.

    ``days`` (the period's first and last local day) is for speed only: rows in the period get
    their local day from the zone's offset steps over the period (integer arithmetic) and their
    bucket from a per-day table, instead of a per-row zone lookup and truncation (~10× slower);
    any other row takes the per-row way. Same answer either way."""
    every = _TRUNCATE[grain]

    def truncate(day):
        return day if every is None else day.dt.truncate(every)

    c = pl.col(col)
    slow = truncate(c.dt.convert_time_zone(tz).dt.date())
    if days is None:
        return slow.alias("bucket")
    start, end = day_start_utc(days[0], tz), day_start_utc(days[1] + timedelta(days=1), tz)
    steps = _offset_steps(tz, start, end)
    if steps is None:
        return slow.alias("bucket")
    offset = pl.lit(steps[-1][1], dtype=pl.Int64)
    for (_, off), (until, _) in reversed(list(zip(steps, steps[1:], strict=False))):
        offset = pl.when(c < until).then(pl.lit(off, dtype=pl.Int64)).otherwise(offset)
    first = (days[0] - date(1970, 1, 1)).days
    table = truncate(pl.date_range(days[0], days[1], "1d", eager=True))
    index = (c.dt.epoch("us") + offset).floordiv(86_400_000_000) - first
    fast_ok = (c >= start) & (c < end) & (index >= 0) & (index < len(table))
    fast = pl.when(fast_ok).then(pl.lit(table).gather(index.clip(0, len(table) - 1)))
    slow = truncate(pl.when(fast_ok.not_()).then(c).dt.convert_time_zone(tz).dt.date())
    return pl.coalesce(fast, slow).alias("bucket")


def seconds(end: str | pl.Expr, start: str | pl.Expr) -> pl.Expr:
    """Duration end − start in seconds (f64)."""
    end = pl.col(end) if isinstance(end, str) else end
    start = pl.col(start) if isinstance(start, str) else start
    return (end - start).dt.total_microseconds() / 1_000_000


def duration_stats(col: str = "d", p90: bool = True) -> list[pl.Expr]:
    """n, mean_s, median_s, p90_s (linear interpolation) over a column of durations already
    cleaned of negatives and nulls."""
    out = [
        pl.len().cast(pl.Int64).alias("n"),
        pl.col(col).mean().alias("mean_s"),
        pl.col(col).median().alias("median_s"),
    ]
    if p90:
        out.append(pl.col(col).quantile(0.9, "linear").alias("p90_s"))
    return out


def valid_durations(col: str = "d") -> pl.Expr:
    """Negative or missing durations are excluded, never 0-filled (METRICS.md)."""
    return pl.col(col).is_not_null() & (pl.col(col) >= 0)


def rate(num: str | pl.Expr, den: str | pl.Expr) -> pl.Expr:
    """num / den as a fraction; null where den is 0 or null."""
    num = pl.col(num) if isinstance(num, str) else num
    den = pl.col(den) if isinstance(den, str) else den
    return pl.when(den > 0).then(num.cast(pl.Float64) / den).otherwise(None)


def check_by(by: Sequence[str], allowed: Sequence[str], metric_id: str) -> tuple[str, ...]:
    """Validate and canonically order the breakdown."""
    by = tuple(dict.fromkeys(by))
    bad = [b for b in by if b not in allowed]
    if bad:
        raise MetricInputError(
            f"{metric_id}: cannot break down by {', '.join(bad)}; supported: {', '.join(allowed) or 'nothing'}"
        )
    return tuple(g for g in GROUP_ORDER if g in by)


def with_bucket(lf: pl.LazyFrame, by: Sequence[str], time_col: str, filters: Filters, tz: str) -> pl.LazyFrame:
    """Add the ``bucket`` column when the breakdown asks for it."""
    if "bucket" not in by:
        return lf
    return lf.with_columns(bucket_expr(time_col, filters.grain, tz, (filters.date_from, filters.date_to)))


def aggregate(lf: pl.LazyFrame, keys: Sequence[str], exprs: Sequence[pl.Expr]) -> pl.LazyFrame:
    """group_by(keys).agg(exprs), or one total row when there are no keys (also on empty input)."""
    if keys:
        return lf.group_by(list(keys)).agg(exprs)
    return lf.select(exprs)


def manager_names(snap: Snapshot) -> pl.DataFrame:
    return snap.scan("users").select(pl.col("user_id").alias("manager"), pl.col("name").alias("_name")).collect()


def finish(
    df: pl.DataFrame | pl.LazyFrame,
    snap: Snapshot,
    by: Sequence[str],
    columns: Sequence[str],
    *,
    sort_extra: Sequence[str] = (),
) -> pl.DataFrame:
    """Group columns first (manager as the user's name), then exactly ``columns``; sorted by the
    group columns and ``sort_extra``. Managers without a users row are shown as ``id <n>``."""
    if isinstance(df, pl.LazyFrame):
        df = df.collect()
    sort_cols = [*by, *sort_extra]
    if sort_cols:
        df = df.sort(sort_cols, nulls_last=True, maintain_order=True)
    if "manager" in by:
        names = manager_names(snap)
        df = df.with_columns(pl.col("manager").cast(pl.Int64)).join(
            names, on="manager", how="left", maintain_order="left"
        )
        df = df.with_columns(
            manager=pl.coalesce("_name", pl.when(pl.col("manager").is_not_null()).then(pl.format("id {}", "manager")))
        )
    out = df.select([*by, *columns])
    if "bucket" in out.columns:
        out = out.with_columns(pl.col("bucket").cast(pl.Date))
    return out


def stage_frame(stages: Sequence[str]) -> pl.DataFrame:
    return pl.DataFrame({"stage": list(stages), "_order": [STAGE_ORDER[s] for s in stages]}).with_columns(
        pl.col("_order").cast(pl.Int32)
    )


def with_all_stages(
    counts: pl.DataFrame, keys: Sequence[str], stages: Sequence[str], fill: Sequence[str]
) -> pl.DataFrame:
    """Every group × every stage, missing counts as 0, with an ``_order`` column for sorting."""
    sf = stage_frame(stages)
    groups = counts.select(list(keys)).unique() if keys else None
    grid = groups.join(sf, how="cross") if groups is not None else sf
    out = grid.join(counts, on=[*keys, "stage"], how="left", nulls_equal=True)
    return out.with_columns([pl.col(c).fill_null(0) for c in fill])


def prev_ratio(col: str, keys: Sequence[str]) -> pl.Expr:
    """col / col of the previous funnel stage (within the group); null for lead and side stages."""
    prev = pl.col(col).shift(1)
    if keys:
        prev = prev.over(list(keys), order_by="_order")
    is_funnel = pl.col("stage").is_in(FUNNEL_STAGES[1:])
    return pl.when(is_funnel).then(rate(col, prev)).otherwise(None)


def position_of(stage: str) -> int | None:
    return STAGE_POSITION[stage]
