"""Every component id of the report, in one place, so callbacks, layout and browser tests agree."""

from __future__ import annotations

# Page frame
URL = "url"
STATE = "view-state"  # dcc.Store holding the canonical view state (what the URL says)
NOTICES = "url-notices"
PAGE = "page-content"
PAGE_LOADING = "page-loading"
TABS = "tabs"
HEADER = "header"
DATA_AS_OF = "data-as-of"
STALE_WARNING = "stale-warning"
ROW_COUNTS = "row-counts"
LANG_SWITCH = "lang-switch"
#: Empty container in the header reserved for the admin refresh button and its progress (issue 6).
ADMIN_SLOT = "admin-slot"
COPY_LINK = "copy-link"  # «Скопировать ссылку» in the header
COPY_LINK_TEXT = "copy-link-text"  # the URL, shown selected where the clipboard is refused
COPY_LINK_STATUS = "copy-link-status"  # «Ссылка скопирована»

# Filter bar
FILTER_BAR = "filter-bar"
FILTER_TOGGLE = "filter-toggle"  # shows/hides the filters on a phone
FILTER_COLLAPSE = "filter-collapse"
PERIOD = "f-period"
DATE_RANGE = "f-dates"
GRAIN = "f-grain"
CITIES = "f-cities"
MANAGERS = "f-managers"
CHANNEL = "f-channel"
CHANNEL_WRAP = "f-channel-wrap"
FUNNEL = "f-funnel"
FUNNEL_WRAP = "f-funnel-wrap"
AS_OF = "f-as-of"
AS_OF_WRAP = "f-as-of-wrap"
HOURS = "f-hours"
HOURS_WRAP = "f-hours-wrap"
COMPARE = "f-compare"
CC = "f-cc"
CC_WRAP = "f-cc-wrap"
RESET = "f-reset"

# Tab content
KPIS = "kpis"
QUALITY = "quality-panel"
DOWNLOAD = "download"

# Drill-down (a click on a count lists its deals)
DRILL_MODAL = "drill-modal"
DRILL_TITLE = "drill-title"
DRILL_BODY = "drill-body"
DRILL_GRID = "drill-grid"
DRILL_CSV = "drill-csv"
DRILL_REQUEST = "drill-request"  # dcc.Store: what the open list shows (for its CSV)
DRILL_DOWNLOAD = "drill-download"

#: Pattern-matching id types (dicts: {"type": ..., "metric": ...}).
DL_BUTTON = "dl-btn"  # {"type": DL_BUTTON, "panel": panel_id, "fmt": "csv"|"xlsx"}
PANEL = "panel"  # {"type": PANEL, "panel": panel_id}
GRAPH = "graph"  # {"type": GRAPH, "panel": panel_id}
TABLE = "table"  # {"type": TABLE, "panel": panel_id}
PANEL_SLOT = "panel-slot"  # a panel card's body, filled by the panel's own callback
PANEL_VIEW = "panel-view"  # dcc.Store in a panel's card: the view it is to show (the callback's input)
PANEL_BODY = "panel-body"  # chart + table of a panel, redrawn by the show-all switch
ROWS_NOTE = "rows-note"  # «показаны N из M» of a chart that leaves groups out
SHOW_ALL = "show-all"  # the switch that draws every group
RANK = "rank"  # the column a ranking panel (the leaderboard) ranks by
RANK_BODY = "rank-body"  # what the ranking control redraws (the panel body inside it)


def panel_id(kind: str, panel: str, **extra: str) -> dict[str, str]:
    """A pattern-matching id for one part (graph, table, download button) of a panel."""
    return {"type": kind, "panel": panel, **extra}
