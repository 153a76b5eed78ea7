"""Fixtures of the metric tests; the hand-made snapshots themselves live in metric_snapshots.py
(a module of its own name, so test files import it without clashing with other conftest.py)."""

from metric_snapshots import demo, make_snapshot, march, touch_account  # noqa: F401  (pytest fixtures)
