"""One registry of metrics: id → function, output columns, titles and definition.

The UI, the export CLI and ``docs/metrics.md`` all read from here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import polars as pl

from etl.snapshot.store import Snapshot
from report.metrics.filters import Filters

MetricFn = Callable[[Snapshot, Filters, tuple[str, ...]], pl.DataFrame]

#: Tabs of the report, in order, with their URL paths.
TABS: tuple[str, ...] = ("funnels", "time", "touches_all", "touches_office")


@dataclass(frozen=True)
class Metric:
    """A registered metric.

    ``columns`` are the export contract's columns after the group columns (METRICS.md).
    ``breakdowns`` are the ``by`` values it supports (subset of city, manager, channel, bucket,
    package). ``tabs`` lists the tabs it appears on. ``definition_*`` is the docstring's
    one-or-two-sentence definition, shown in the app and in exports. ``cacheable`` is False for
    metrics that depend on the wall clock (the data-quality panel's age).
    """

    id: str
    fn: MetricFn
    columns: tuple[str, ...]
    title_ru: str
    title_en: str
    definition_ru: str
    definition_en: str
    breakdowns: tuple[str, ...]
    tabs: tuple[str, ...]
    cacheable: bool = True

    def title(self, lang: str) -> str:
        return self.title_en if lang == "en" else self.title_ru

    def definition(self, lang: str) -> str:
        return self.definition_en if lang == "en" else self.definition_ru


METRICS: dict[str, Metric] = {}


def register(metric: Metric) -> Metric:
    if metric.id in METRICS:
        raise ValueError(f"metric {metric.id} registered twice")
    METRICS[metric.id] = metric
    return metric


def get(metric_id: str) -> Metric:
    """The metric with this id; KeyError with the known ids otherwise."""
    _load_all()
    try:
        return METRICS[metric_id]
    except KeyError:
        raise KeyError(f"unknown metric {metric_id!r}; known: {', '.join(sorted(METRICS))}") from None


def all_metrics() -> dict[str, Metric]:
    _load_all()
    return dict(METRICS)


def for_tab(tab: str) -> list[Metric]:
    """The metrics shown on a tab, in registration order."""
    if tab not in TABS:
        raise KeyError(f"unknown tab {tab!r}; known: {', '.join(TABS)}")
    return [m for m in all_metrics().values() if tab in m.tabs]


def _load_all() -> None:
    """Import the metric modules (they register themselves); cheap after the first call."""
    import importlib
    import pkgutil

    import report.metrics as pkg

    for mod in pkgutil.iter_modules(pkg.__path__):
        if mod.name not in ("registry", "filters", "common", "docs", "derived"):
            importlib.import_module(f"report.metrics.{mod.name}")
