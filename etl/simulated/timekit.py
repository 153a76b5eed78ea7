"""Time and draw helpers shared by the generator's stages (vectorised over deals).

Times are integer Unix seconds in numpy arrays; a deal's local time is ``ts + offset`` with the
offset of its city's time zone on the account's end date (DST is ignored: Russia has none).
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator
from datetime import UTC, datetime

import numpy as np

from etl.simulated.params import DAY, HOUR


@contextlib.contextmanager
def no_gc() -> Iterator[None]:
    """Pause the cyclic GC: millions of small dicts would trigger it again and again for nothing."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def utc(moment: datetime) -> datetime:
    """An aware UTC datetime (a naive one is taken as UTC)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def to_ts(moment: datetime) -> int:
    return int(utc(moment).timestamp())


def iso(ts: int) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def to_work_hours(ts: np.ndarray, offset: np.ndarray, start_h: int, end_h: int) -> np.ndarray:
    """Move times outside local working hours to the next working-hours start (same day or next)."""
    second_of_day = (ts + offset) % DAY
    start, end = start_h * HOUR, end_h * HOUR
    shift = np.where(
        second_of_day < start, start - second_of_day, np.where(second_of_day >= end, DAY - second_of_day + start, 0)
    )
    return ts + shift


def local_weekday(ts: np.ndarray, offset: np.ndarray) -> np.ndarray:
    """0 = Monday (1970-01-01 was a Thursday)."""
    return ((ts + offset) // DAY + 3) % 7


def uniform_ints(rng: np.random.Generator, low: float, high: float, size: int) -> np.ndarray:
    """``size`` uniform draws in [low, high), truncated to whole seconds."""
    return rng.uniform(low, high, size).astype(np.int64)


def season_factor(ts: np.ndarray, month_factors: tuple[float, ...]) -> np.ndarray:
    """Smooth yearly factor: month factors at mid-month, linearly interpolated, mean ≈ 1."""
    days = (ts // DAY).astype("datetime64[D]")
    day_of_year = (days - days.astype("datetime64[Y]").astype("datetime64[D]")).astype(np.int64)
    factors = np.asarray(month_factors, dtype=float)
    mid_months = np.arange(-1, 13) + 0.5
    wrapped = np.concatenate([[factors[-1]], factors, [factors[0]]])
    month_position = day_of_year / 365.25 * 12
    grid = np.interp(np.arange(365) / 365.25 * 12, mid_months, wrapped)
    return np.interp(month_position, mid_months, wrapped) / grid.mean()


def force_one(mask: np.ndarray, eligible: np.ndarray) -> np.ndarray:
    """A quirk must show at least once: if ``mask`` hits no eligible row, take the first eligible."""
    if not (mask & eligible).any() and eligible.any():
        mask = mask.copy()
        mask[int(np.argmax(eligible))] = True
    return mask


def schedule_consultation(
    rng: np.random.Generator, base: np.ndarray, offset: np.ndarray, days_lo: int, days_hi: int
) -> np.ndarray:
    """A consultation slot 1–7 days after ``base``, 10:00–19:00 local, never on a Sunday."""
    days_later = rng.integers(days_lo, days_hi + 1, len(base))
    day_start = ((base + offset) // DAY + days_later) * DAY - offset
    sunday = local_weekday(day_start + 12 * HOUR, offset) == 6
    day_start = day_start + np.where(sunday, DAY, 0)
    return day_start + 10 * HOUR + 1800 * rng.integers(0, 18, len(base))
