"""Tasks: how many per deal, deadlines in working hours, most completed."""

from __future__ import annotations

import statistics
from collections import Counter
from datetime import datetime
from zoneinfo import ZoneInfo

from tests.etl.simulated.synth_cases import END, city_of


def test_tasks_per_deal_deadlines_in_working_hours_most_completed(view, config):
    tasks = view["tasks"]
    per_deal = Counter(t["entity_id"] for t in tasks)
    live = {x["id"]: x for x in view["leads"]}
    counts = [per_deal[i] for i in live]
    assert 2 <= statistics.mean(counts) <= 6
    assert max(counts) <= 6
    for t in tasks:
        lead = live.get(t["entity_id"])
        if lead is None or city_of(lead) is None:
            continue
        local = datetime.fromtimestamp(t["complete_till"], ZoneInfo(config.cities[city_of(lead)]))
        assert 9 * 60 <= local.hour * 60 + local.minute <= 21 * 60, (t["id"], local)
    done = [t for t in tasks if t["is_completed"]]
    assert 0.8 <= len(done) / len(tasks) <= 0.97
    now = int(END.timestamp())
    overdue = [t for t in tasks if not t["is_completed"] and t["complete_till"] < now]
    late = [t for t in done if t["updated_at"] > t["complete_till"]]
    assert overdue and late
    completed_events = {e["entity_id"]: e["created_at"] for e in view["events"] if e["type"] == "task_completed"}
    assert all(completed_events[t["id"]] == t["updated_at"] for t in done)
