"""Figure builders: pure functions DataFrame → :class:`~report.figures.plain.Figure` (plotly's
``{"data": [...], "layout": {...}}`` as plain dicts, no plotly.py objects: see ``plain``). They
never filter or mutate input, and compute no numbers a user reads: every value drawn is a column
a metric returned (unit conversion for an axis and formatting aside).

Every figure carries aggregates only (a few hundred points at most). Modules: ``plain`` (the
figure), ``base`` (colours, layout, units), ``funnels``, ``bars``, ``durations``, ``heatmaps``,
``timeseries``.
"""

from report.figures.bars import bars, histogram_bars, rate_bars
from report.figures.base import (
    AGE_COLORS,
    KIND_COLORS,
    SERIES_COLORS,
    STAGE_COLORS,
    all_rows,
    base_layout,
    duration_unit,
    empty_figure,
)
from report.figures.durations import duration_over_time, duration_ranges
from report.figures.funnels import funnel, reconciliation_bars, status_bars
from report.figures.heatmaps import heatmap
from report.figures.timeseries import attendance_over_time, lines_over_time, stacked_over_time

__all__ = [
    "AGE_COLORS",
    "KIND_COLORS",
    "SERIES_COLORS",
    "STAGE_COLORS",
    "all_rows",
    "attendance_over_time",
    "bars",
    "base_layout",
    "duration_over_time",
    "duration_ranges",
    "duration_unit",
    "empty_figure",
    "funnel",
    "heatmap",
    "histogram_bars",
    "lines_over_time",
    "rate_bars",
    "reconciliation_bars",
    "stacked_over_time",
    "status_bars",
]
