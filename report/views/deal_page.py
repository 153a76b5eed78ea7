"""``/deal/<id>``: the report's own read-only deal card, for accounts with no amoCRM to link to
(the demo; ``report.metrics.drill.deal_url``).

A plain Flask route on the app's server, registered by ``report.app.create_app``: one small
server-rendered page styled by the app's own Bootstrap (no script, no CDN), so it passes the same
viewer-key gate (a ``before_request`` on every path) and gets the same security headers as the
tabs. The data comes from :func:`report.metrics.deal_card.deal_card`; this module only lays it out.

Choices (the spec is silent):
- Every value is HTML-escaped, also the id as typed: the 404 page repeats it.
- An id that is not 1–18 ASCII digits, or one the snapshot lacks, answers **404** with a sentence
  saying so; no snapshot yet answers **503** with the tabs' "no data" sentence.
- Times are in the report's time zone (the snapshot's), as in the drill-down list.
- Language: ``?lang=en`` or ``?lang=ru``, else the configured default.
"""

from __future__ import annotations

from collections.abc import Iterable
from html import escape
from zoneinfo import ZoneInfo

import flask
import polars as pl
from flask import Response, request

from report.formatting import fmt_datetime, fmt_duration, fmt_money, fmt_number
from report.i18n import column_label, stage_label, t
from report.metrics.deal_card import TOUCH_KINDS, deal_card
from report.source import SnapshotSource

MAX_ID_DIGITS = 18  # below 2**63: every deal id amoCRM gives fits
PAGE = """<!doctype html><html lang="{lang}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><link rel="icon" href="data:,">
<title>{title}</title><link rel="stylesheet" href="{css}"></head>
<body class="bg-light"><main class="container py-4" style="max-width:56rem" id="deal-card">
<p class="small"><a href="/{back}">{back_text}</a></p>
{body}
</main></body></html>"""


def _table(rows: Iterable[tuple[str, str]]) -> str:
    cells = "".join(f'<tr><th scope="row" class="w-50">{k}</th><td>{v}</td></tr>' for k, v in rows)
    return f'<table class="table table-sm bg-white">{cells}</table>'


def _when(value: object, tz: str, lang: str) -> str:
    return fmt_datetime(value.astimezone(ZoneInfo(tz)), lang) if value else "—"


def render(card: dict[str, pl.DataFrame], lang: str, tz: str, as_of: object) -> tuple[str, str]:
    """(title, body HTML) of a deal card; every value escaped."""
    deal = card["deal"].row(0, named=True)
    act = card["activity"].row(0, named=True)
    yes_no = {True: t("deal_yes", lang), False: t("deal_no", lang)}
    title = t("deal_title", lang, v=deal["deal_id"])
    facts = [
        (column_label("deal_id", lang), str(deal["deal_id"])),
        (column_label("city", lang), deal["city"] or "—"),
        (column_label("manager", lang), deal["manager"]),
        (column_label("channel", lang), t(f"c_{deal['channel']}", lang) if deal["channel"] else "—"),
        (t("deal_pipeline", lang), deal["pipeline"]),
        (column_label("status", lang), deal["status"]),
        (column_label("stage", lang), stage_label(deal["stage"], lang)),
        (column_label("created_at", lang), _when(deal["created_at"], tz, lang)),
        (t("deal_closed_at", lang), _when(deal["closed_at"], tz, lang) if deal["closed_at"] else t("deal_open", lang)),
        (t("deal_deleted", lang), yes_no[bool(deal["is_deleted"])]),
        (t("deal_price", lang), fmt_money(deal["price"], lang) if deal["price"] else "—"),
        (column_label("package", lang), deal["package"] or "—"),
    ]
    counts = [(t(f"deal_{kind}", lang), fmt_number(act[kind], lang, 0)) for kind in TOUCH_KINDS]
    counts += [
        (t("deal_answered_s", lang), fmt_duration(act["answered_s"], lang)),
        (t("deal_tasks", lang), fmt_number(act["tasks"], lang, 0)),
        (t("deal_tasks_open", lang), fmt_number(act["tasks_open"], lang, 0)),
    ]
    heads = [t("deal_time", lang), t("deal_pipeline", lang), column_label("status", lang)]
    heads += [column_label("stage", lang), t("deal_stage_entry", lang)]
    entries = "".join(
        f"<tr><td>{escape(_when(e['at'], tz, lang))}</td><td>{escape(e['pipeline'])}</td><td>{escape(e['status'])}</td>"
        f"<td>{escape(stage_label(e['stage'], lang))}</td><td>{escape(yes_no[bool(e['is_stage_entry'])])}</td></tr>"
        for e in card["entries"].iter_rows(named=True)
    )
    head_row = "".join(f'<th scope="col">{escape(h)}</th>' for h in heads)

    def esc(rows: list[tuple[str, str]]) -> list[tuple[str, str]]:
        return [(escape(k), escape(str(v))) for k, v in rows]

    body = (
        f'<h1 class="h4">{escape(title)}</h1>'
        f'<p class="text-muted small">{escape(t("deal_as_of", lang, d=_when(as_of, tz, lang), tz=tz))}</p>'
        f"{_table(esc(facts))}"
        f'<h2 class="h5 mt-4">{escape(t("deal_entries", lang))}</h2>'
        f'<table class="table table-sm bg-white" id="deal-entries"><thead><tr>{head_row}</tr></thead>'
        f"<tbody>{entries}</tbody></table>"
        f'<h2 class="h5 mt-4">{escape(t("deal_activity", lang))}</h2>{_table(esc(counts))}'
    )
    return title, body


def _page(lang: str, css: str, title: str, body: str, status: int) -> Response:
    back = "?lang=en" if lang == "en" else ""
    html = PAGE.format(
        lang=lang, title=escape(title), css=escape(css), back=back, back_text=escape(t("deal_back", lang)), body=body
    )
    return Response(html, status=status, mimetype="text/html")


def register(server: flask.Flask, source: SnapshotSource, default_lang: str, css: str) -> None:
    """Add ``GET /deal/<id>`` to ``server``; ``css`` is the app's Bootstrap asset URL."""

    @server.route("/deal/<raw_id>")
    def deal_card_page(raw_id: str) -> Response:
        asked = request.args.get("lang") or default_lang
        lang = "en" if asked == "en" else "ru"
        info = source.get()
        if info is None:
            text = escape(t("no_snapshot", lang))
            return _page(lang, css, t("app_title", lang), f'<p class="alert alert-secondary">{text}</p>', 503)
        card = None
        if raw_id.isascii() and raw_id.isdigit() and len(raw_id) <= MAX_ID_DIGITS:
            card = deal_card(info.snap, int(raw_id))
        if card is None:
            text = escape(t("deal_not_found", lang, v=raw_id))
            return _page(
                lang, css, t("app_title", lang), f'<p class="alert alert-warning" id="deal-404">{text}</p>', 404
            )
        title, body = render(card, lang, info.snap.timezone, info.snap.data_as_of)
        return _page(lang, css, title, body, 200)
