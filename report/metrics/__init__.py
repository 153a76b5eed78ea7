"""Pure metric functions over a snapshot (no Dash here).

Every metric is ``fn(snap: Snapshot, filters: Filters, by: tuple[str, ...]) -> pl.DataFrame``
and is registered in :mod:`report.metrics.registry` with its columns, titles and definition.
"""
