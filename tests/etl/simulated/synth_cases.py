"""Helpers of the simulated account's tests: the end date, and readings of a view (stages, histories)."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime

END = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
DAY = 86_400


def status_stage(view, config) -> dict[tuple[int, int], str]:
    """(pipeline_id, status_id) → stage, through the real config.yaml (as `etl build` maps them)."""
    out = {}
    for p in view["pipelines"]:
        for s in p["_embedded"]["statuses"]:
            out[(p["id"], s["id"])] = config.stage_of(s["id"], s["name"])
    return out


def histories(view) -> dict[int, list[tuple[int, tuple[int, int]]]]:
    """lead id → [(time, (pipeline, status)) ...]: creation status, then each status change."""
    h: dict[int, list] = defaultdict(list)
    for e in view["events"]:
        if e["type"] in ("lead_added", "lead_status_changed"):
            s = e["value_after"][0]["lead_status"]
            h[e["entity_id"]].append((e["created_at"], (s["pipeline_id"], s["id"])))
    return h


def city_of(lead) -> str | None:
    for f in lead["custom_fields_values"] or []:
        if f["field_name"] == "Город":
            return f["values"][0]["value"]
    return None


def old_leads(view):
    """Deals created at least 60 days before the view: their funnel has mostly run its course."""
    cutoff = int(END.timestamp()) - 60 * DAY
    return [lead for lead in view["leads"] if lead["created_at"] <= cutoff]
