"""When deals arrive, from which city, and who gets them first (``rngs[1]``).

Arrivals are an inhomogeneous Poisson flow on an hourly grid (season × growth × weekday × local
hour × city weight); routing then decides the creation mode, the starting pipeline and the first
responsible user.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from etl.simulated.cast import Cast
from etl.simulated.params import CC, DAY, HOUR, OFFICE, SynthParams
from etl.simulated.timekit import force_one, local_weekday, season_factor, to_work_hours


@dataclass(frozen=True)
class Arrivals:
    """One entry per deal, in creation order."""

    created: np.ndarray
    city: np.ndarray
    offset: np.ndarray  # the city's UTC offset
    work_hours: tuple[int, int]
    has_city: np.ndarray
    quirk_eligible: np.ndarray  # old enough (3 days before the end) to carry a forced quirk
    robot: np.ndarray  # booked online by a robot: created straight into "booked"
    mode: np.ndarray  # 0 unsorted request, 1 created by a manager into "new", 2 robot-booked
    start_cc: np.ndarray
    pipe0: np.ndarray  # the starting pipeline
    city_pick: np.ndarray  # the office manager of the deal's city (after a transfer)
    resp0: np.ndarray  # the first responsible user
    conv0: np.ndarray  # conversion factor of the first responsible and the city
    creator: np.ndarray  # user index, -1 = robot

    @property
    def count(self) -> int:
        return len(self.created)

    def work(self, ts: np.ndarray) -> np.ndarray:
        """Every deal's ``ts`` moved into its city's working hours."""
        return to_work_hours(ts, self.offset, *self.work_hours)

    def work_of(self, ts: np.ndarray, deals: np.ndarray) -> np.ndarray:
        """``ts`` of the given deal indexes moved into their cities' working hours."""
        return to_work_hours(ts, self.offset[deals], *self.work_hours)


def arrival_times(
    rng: np.random.Generator, params: SynthParams, start: int, stop: int, end: int, deals_per_year: int,
    weights: np.ndarray, offsets: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """Creation times and cities of all deals in [start, stop): an inhomogeneous hourly grid."""
    first_hour = start // HOUR
    hours = np.arange(first_hour, -(-stop // HOUR), dtype=np.int64) * HOUR
    season = season_factor(hours, params.month_factors) * (1 + params.growth_per_year) ** ((hours - end) / (365 * DAY))
    weekday = np.asarray(params.weekday_factors) / np.mean(params.weekday_factors)
    hour_of_day = np.asarray(params.hour_factors) / np.mean(params.hour_factors)
    local = hours[:, None] + offsets[None, :]
    rate = (
        weights[None, :]
        * weekday[local_weekday(local, np.zeros(1, dtype=np.int64))]
        * hour_of_day[(local % DAY) // HOUR]
    )
    rate = rate * season[:, None]
    # the first and last hour only partly inside the window
    inside = np.ones(len(hours))
    inside[0] = (hours[0] + HOUR - start) / HOUR
    inside[-1] = min(inside[-1], (stop - hours[-1]) / HOUR)
    rate = rate * inside[:, None]
    expected = deals_per_year / (365 * 24) * rate.sum()
    total = int(round(expected))
    counts = rng.multinomial(total, (rate / rate.sum()).ravel())
    cells = np.repeat(np.arange(counts.size), counts)
    hour_index, city = np.divmod(cells, len(weights))
    low = np.maximum(hours[hour_index], start)
    high = np.minimum(hours[hour_index] + HOUR, stop)
    created = low + (rng.random(total) * (high - low)).astype(np.int64)
    order = np.argsort(created, kind="stable")
    return created[order], city[order]


def arrive_and_route(
    rng: np.random.Generator, params: SynthParams, cast: Cast, window: tuple[int, int, int], deals_per_year: int
) -> Arrivals:
    """All deals of ``window`` = (start, stop, end) with their creation mode and first owner."""
    start_ts, stop_ts, end_ts = window
    created, city = arrival_times(
        rng, params, start_ts, stop_ts, end_ts, deals_per_year, cast.city_weights, cast.city_offsets
    )
    n_deals = len(created)
    team = cast.team
    has_city = rng.random(n_deals) >= params.p_no_city
    quirk_eligible = created <= end_ts - 3 * DAY
    robot = has_city & (rng.random(n_deals) < params.p_robot_booked)
    robot = force_one(robot, has_city & quirk_eligible)
    mode = np.where(robot, 2, np.where(rng.random(n_deals) < params.p_created_new, 1, 0))
    start_cc = ~has_city | ((rng.random(n_deals) < params.cc_start_share) & ~robot)
    pipe0 = np.where(start_cc, CC, OFFICE)
    cc_pick = 1 + rng.integers(0, params.cc_team, n_deals)
    city_pick = team.mgr_start[city] + (rng.random(n_deals) * team.mgr_count[city]).astype(np.int64)
    resp0 = np.where(start_cc, cc_pick, city_pick)
    conv0 = team.conv[resp0] * cast.city_conv[city]
    creator = np.where(mode == 1, resp0, -1)
    return Arrivals(
        created, city, cast.city_offsets[city], (params.work_start_h, params.work_end_h), has_city, quirk_eligible,
        robot, mode, start_cc, pipe0, city_pick, resp0, conv0, creator,
    )  # fmt: skip
