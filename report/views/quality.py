"""The data-quality panel: what the snapshot's build could not place (metric ``quality.panel``)."""

from __future__ import annotations

import dash_bootstrap_components as dbc
import polars as pl
from dash import html

from etl.snapshot.store import Snapshot
from report.formatting import fmt_duration, fmt_number
from report.i18n import TEXTS, t

#: Counters that are facts about the account rather than problems (not added to the badge).
NOT_PROBLEMS = frozenset({"deleted_deals", "snapshot_age_hours", "unmapped_status_deals"})


def _label(check: str, lang: str) -> str:
    return t(f"q_{check}", lang) if f"q_{check}" in TEXTS else check


def _value(check: str, value: float | None, lang: str) -> str:
    if check == "snapshot_age_hours":
        return fmt_duration(value * 3600 if value is not None else None, lang)
    return fmt_number(value, lang)


def panel(df: pl.DataFrame | None, snap: Snapshot, lang: str, error: str | None = None) -> dbc.Accordion:
    """A collapsed accordion; its title counts the problems so a glance says whether to open it."""
    body: list = []
    issues = 0
    if error is not None:
        body.append(dbc.Alert(error, color="danger", className="small"))
    if df is not None:
        rows = []
        for check, value in df.select("check", "value").iter_rows():
            if check not in NOT_PROBLEMS:
                issues += int(value or 0)
            rows.append(
                html.Tr([html.Td(_label(check, lang)), html.Td(_value(check, value, lang), className="text-end")])
            )
        body.append(dbc.Table(html.Tbody(rows), size="sm", className="small mb-2"))
    unmapped = snap.quality.get("unmapped_statuses") or []
    lists = {
        "q_unmapped_statuses": [
            f"{u.get('pipeline')} / {u.get('status')} (#{u.get('status_id')}): {fmt_number(u.get('deals'), lang)}"
            for u in unmapped
        ],
        "q_wrong_types": [
            f"{w.get('collection')}.{w.get('field')}: {fmt_number(w.get('records'), lang)}"
            for w in snap.quality.get("wrong_types") or []
        ],
    }
    for key, items in lists.items():
        if items:
            body.append(html.Div(t(key, lang), className="small fw-semibold"))
            body.append(html.Ul([html.Li(item) for item in items], className="small"))
    title = f"{t('quality', lang)} · {t('q_issues', lang)}: {fmt_number(issues, lang)}"
    return dbc.Accordion(
        [dbc.AccordionItem(body, title=title, item_id="quality")],
        start_collapsed=True,
        className="shadow-sm",
    )
