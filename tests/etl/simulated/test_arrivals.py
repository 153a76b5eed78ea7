"""Arrivals: routing shares, city sizes, seasons, the hours and weekdays requests come in."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from zoneinfo import ZoneInfo

from tests.etl.simulated.synth_cases import city_of, old_leads


def test_contact_centre_share_city_sizes_and_seasonality(view):
    leads = view["leads"]
    cc = next(p["id"] for p in view["pipelines"] if p["name"] == "Контакт-центр")
    old = old_leads(view)
    assert 0.15 <= sum(x["pipeline_id"] == cc for x in old) / len(old) <= 0.35  # about a quarter
    by_city = Counter(city_of(x) for x in leads if city_of(x))
    assert [c for c, _ in by_city.most_common(2)] == ["Москва", "Санкт-Петербург"]
    assert len(by_city) >= 30
    # month factors 1.45 (May), 1.5 (Nov) vs 0.6 (Aug), 0.55 (Jan): > 2× expected, 1.4× asserted
    # (about 200–300 deals a month, so Poisson noise is below 8 %)
    msk = ZoneInfo("Europe/Moscow")
    days = Counter()
    for x in leads:
        d = datetime.fromtimestamp(x["created_at"], msk)
        days[d.month] += 1
    per_day = {m: days[m] / n for m, n in ((1, 31), (5, 31), (8, 31), (11, 29))}
    assert min(per_day[5], per_day[11]) > 1.4 * max(per_day[1], per_day[8]), per_day


def test_leads_arrive_in_the_daytime_and_rarely_on_sundays(view, config):
    night = sunday = total = 0
    for x in view["leads"]:
        city = city_of(x)
        if city is None:
            continue
        local = datetime.fromtimestamp(x["created_at"], ZoneInfo(config.cities[city]))
        total += 1
        night += local.hour < 6
        sunday += local.weekday() == 6
    assert night / total < 0.05  # 6 of 24 hours, but only ~2 % of leads
    assert sunday / total < 0.10  # uniform would be 14 %
