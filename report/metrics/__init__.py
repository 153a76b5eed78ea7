"""Pure metric functions over a snapshot (no Dash here).

Every metric is ``fn(snap: Snapshot, filters: Filters, by: tuple[str, ...]) -> pl.DataFrame``,
declared once with ``@metric(...)`` (:mod:`report.metrics.registry`) with its columns, titles and
definition. Snapshot reads go through :mod:`report.metrics.access`.
"""
