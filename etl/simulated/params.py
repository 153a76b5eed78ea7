"""The demo business's behaviour parameters, time units and the default account's status slots.

Every number the generator draws from lives in :class:`SynthParams` (DATA.md "How the demo account
should behave"); the slots name the eleven statuses of each pipeline by their place in the funnel.
"""

from __future__ import annotations

from dataclasses import dataclass

DAY = 86_400
HOUR = 3_600
MINUTE = 60
INF = 2**62  # "never": a time later than any real one, so that ``t <= now`` is simply false

# Status slots of the default account (DATA.md "Default account"), in pipeline order.
S_UNSORTED, S_NEW, S_NO_ANSWER, S_PHONE, S_NOT_BOOKED, S_BOOKED, S_NO_SHOW, S_ATTENDED, S_CONTRACT, S_WON, S_LOST = (
    range(11)
)
CC, OFFICE = 0, 1  # the two pipelines: the remote contact centre, the city offices


@dataclass(frozen=True)
class SynthParams:
    """Behaviour of the demo business (DATA.md "How the demo account should behave").

    Probabilities are per deal and are multiplied by the deal's manager and city factors.
    """

    host: str = "https://prizyva-net.amocrm.ru"
    account_id: int = 31_415_926
    subdomain: str = "prizyva-net"
    account_timezone: str = "Europe/Moscow"
    config_path: str | None = None  # config.yaml giving the cities and their time zones
    # volume: month factors (Jan..Dec, at mid-month, interpolated), weekday (Mon..Sun), local hour
    month_factors: tuple[float, ...] = (0.55, 0.65, 0.85, 1.3, 1.45, 1.35, 1.15, 0.6, 0.8, 1.35, 1.5, 1.15)
    weekday_factors: tuple[float, ...] = (1.2, 1.15, 1.1, 1.05, 1.0, 0.65, 0.4)
    hour_factors: tuple[float, ...] = (
        0.12, 0.06, 0.04, 0.03, 0.03, 0.05, 0.12, 0.3, 0.6, 1.0, 1.35, 1.5,
        1.5, 1.45, 1.45, 1.4, 1.4, 1.35, 1.3, 1.25, 1.15, 0.95, 0.65, 0.3,
    )  # fmt: skip
    growth_per_year: float = 0.1
    city_weight_power: float = 0.9
    # team
    office_managers_top: tuple[int, ...] = (6, 4)  # Moscow, Saint Petersburg
    big_city_count: int = 6  # the next cities by size get 2 managers, the rest 1
    cc_team: int = 10
    slow_manager_speed: float = 4.0  # the slow manager's first call takes this many times longer
    slow_manager_conv: float = 0.6  # ... and converts this much worse
    manager_conv_sd: float = 0.07
    city_conv_sd: float = 0.05
    # routing
    cc_start_share: float = 0.36  # deals that start in the contact centre
    cc_keep_booked_share: float = 0.12  # CC-booked deals consulted by the CC itself (not transferred)
    # conversion
    p_phone: float = 0.68
    p_junk: float = 0.12  # of the unreached: wrong numbers / spam closed within a day
    p_book: float = 0.48
    p_attend: float = 0.63
    p_rebook: float = 1 / 3
    p_contract: float = 0.38
    p_refund: float = 0.02
    p_lost_not_booked: float = 0.8
    p_lost_no_show: float = 0.85
    p_lost_no_contract: float = 0.7
    # timing
    first_call_median_min: float = 12.0
    work_start_h: int = 9
    work_end_h: int = 21
    # touches
    p_call_on_contact: float = 0.4
    p_welcome_sms: float = 0.15  # robot SMS right after the request (rare: it would hide the first-touch time)
    answered_median_s: float = 240.0
    # packages (name, list price)
    packages: tuple[tuple[str, int], ...] = (("Базовый", 35_000), ("Стандарт", 70_000), ("Премиум", 120_000))
    package_weights: tuple[float, ...] = (0.45, 0.38, 0.17)
    # tasks
    p_task_open: float = 0.07
    # quirks
    p_no_city: float = 0.03
    p_returning: float = 0.05
    p_deleted: float = 0.01
    p_restored: float = 0.0005
    p_robot_booked: float = 0.005
    unknown_event_share: float = 0.0001
    p_duration_str: float = 0.02
    p_created_new: float = 0.4  # created by a manager straight into "Новая заявка" (incoming call)
    yo_pipeline: int = OFFICE  # the pipeline whose "Не пришёл" is spelled with ё
