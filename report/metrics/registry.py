"""One registry of metrics: id → function, output columns, titles and definition.

A metric is declared once, on its function, with :func:`metric`; the UI, the export CLI and
``docs/metrics.md`` all read from here. What a tab shows is said by the views alone.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import polars as pl

from etl.snapshot.store import Snapshot
from report.metrics.filters import Filters

MetricFn = Callable[[Snapshot, Filters, tuple[str, ...]], pl.DataFrame]
#: The modules that hold no metric (the rest are imported by :func:`all_metrics`).
HELPER_MODULES = frozenset({"registry", "filters", "docs", "access", "kept", "daily", "periods", "shaping"})
#: What a duration counts in business hours (``Filters.hours`` = business), said once for every
#: metric declared with ``hours=True``: the docs and the app append it to the definition.
BUSINESS_HOURS_RU = (
    "В рабочих часах: считается только рабочее время офиса сделки (график города в его часовом поясе, "
    "без выходных и праздников производственного календаря), для сделок контакт-центра — его график."
)
BUSINESS_HOURS_EN = (
    "In business hours: only the working time of the deal's office counts (its city's schedule in its "
    "time zone, less weekends and the production calendar's holidays); for contact-centre deals, the "
    "contact centre's schedule."
)


@dataclass(frozen=True)
class Metric:
    """A registered metric.

    ``columns`` are the export contract's columns after the group columns (METRICS.md).
    ``breakdowns`` are the ``by`` values it supports (subset of city, manager, channel, bucket,
    package). ``definition_*`` is the one-or-two-sentence definition shown in the app and in
    exports. ``cacheable`` is False for metrics that depend on the wall clock (the data-quality
    panel's age). ``hours`` is True for metrics whose durations follow ``Filters.hours``.
    """

    id: str
    fn: MetricFn
    columns: tuple[str, ...]
    breakdowns: tuple[str, ...]
    title_ru: str
    title_en: str
    definition_ru: str
    definition_en: str
    cacheable: bool = True
    hours: bool = False

    def title(self, lang: str) -> str:
        return self.title_en if lang == "en" else self.title_ru

    def definition(self, lang: str, hours: str = "calendar") -> str:
        """The definition; in business hours (``hours``) with what a duration then counts."""
        text = self.definition_en if lang == "en" else self.definition_ru
        if self.hours and hours == "business":
            text = f"{text} {self.business_note(lang)}"
        return text

    def business_note(self, lang: str) -> str:
        return BUSINESS_HOURS_EN if lang == "en" else BUSINESS_HOURS_RU

    @property
    def module(self) -> str:
        """The metric module that defines it (``funnels``, ``times``…): the docs group by it."""
        return self.fn.__module__.rsplit(".", 1)[-1]


METRICS: dict[str, Metric] = {}


def metric(
    *,
    id: str,  # noqa: A002  (the metric's id is its name everywhere: URL, export, docs)
    columns: tuple[str, ...] | list[str],
    breakdowns: tuple[str, ...] | list[str],
    title_ru: str,
    title_en: str,
    definition_ru: str,
    definition_en: str,
    cacheable: bool = True,
    hours: bool = False,
) -> Callable[[MetricFn], MetricFn]:
    """Register the decorated function as the metric ``id``; the function is returned unchanged
    (so one function may be registered under two ids, as the spec lists it on two tabs)."""

    def register(fn: MetricFn) -> MetricFn:
        if id in METRICS:
            raise ValueError(f"metric {id} registered twice")
        METRICS[id] = Metric(
            id=id,
            fn=fn,
            columns=tuple(columns),
            breakdowns=tuple(breakdowns),
            title_ru=title_ru,
            title_en=title_en,
            definition_ru=definition_ru,
            definition_en=definition_en,
            cacheable=cacheable,
            hours=hours,
        )
        return fn

    return register


def get(metric_id: str) -> Metric:
    """The metric with this id; KeyError with the known ids otherwise."""
    _load_all()
    try:
        return METRICS[metric_id]
    except KeyError:
        raise KeyError(f"unknown metric {metric_id!r}; known: {', '.join(sorted(METRICS))}") from None


def all_metrics() -> dict[str, Metric]:
    """Every metric, in registration order (module by module)."""
    _load_all()
    return dict(METRICS)


_LOADED: list[bool] = []


def _load_all() -> None:
    """Import the metric modules (they register themselves), once: listing the package's modules
    reads the folder, which every panel's metric lookup would otherwise pay."""
    if _LOADED:
        return
    import importlib
    import pkgutil

    import report.metrics as pkg

    for mod in pkgutil.iter_modules(pkg.__path__):
        if mod.name not in HELPER_MODULES:
            importlib.import_module(f"report.metrics.{mod.name}")
    _LOADED.append(True)
