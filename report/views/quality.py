"""The data-quality panel: what the snapshot's build could not place, from its manifest."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import html

from etl.config import Config
from etl.snapshot import Snapshot
from report.formatting import fmt_duration, fmt_number
from report.views.i18n import TEXTS, t

COUNTERS = (
    "deals_without_city",
    "deals_city_not_in_config",
    "deleted_deals",
    "unattributed_touches",
    "events_unknown_deals",
    "notes_unknown_deals",
    "tasks_unknown_deals",
    "duplicate_records_dropped",
)


def panel(snap: Snapshot, lang: str, config: Config) -> dbc.Accordion:
    """Counters from the manifest (no metric call: they are per snapshot, not per filter)."""
    from datetime import UTC, datetime

    quality = snap.quality
    rows = [
        html.Tr([html.Td(t(f"q_{key}", lang)), html.Td(fmt_number(quality.get(key), lang), className="text-end")])
        for key in COUNTERS
        if f"q_{key}" in TEXTS
    ]
    age = (datetime.now(UTC) - snap.data_as_of).total_seconds()
    rows.append(html.Tr([html.Td(t("q_snapshot_age", lang)), html.Td(fmt_duration(age, lang), className="text-end")]))
    unmapped = quality.get("unmapped_statuses") or []
    issues = sum(int(quality.get(k) or 0) for k in COUNTERS if k != "deleted_deals") + len(unmapped)
    body: list = [dbc.Table(html.Tbody(rows), size="sm", className="small mb-2")]
    if unmapped:
        body.append(html.Div(t("q_unmapped_statuses", lang), className="small fw-semibold"))
        body.append(
            html.Ul(
                [
                    html.Li(
                        f"{u.get('pipeline')} / {u.get('status')} (#{u.get('status_id')}): {fmt_number(u.get('deals'), lang)}"
                    )
                    for u in unmapped
                ],
                className="small",
            )
        )
    title = f"{t('quality', lang)} · {fmt_number(issues, lang)}"
    return dbc.Accordion(
        [dbc.AccordionItem(body, title=title, item_id="quality")],
        start_collapsed=True,
        className="shadow-sm",
    )
