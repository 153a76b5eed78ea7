"""The snapshot errors, apart from the modules that raise them so that both can import them.

:mod:`etl.snapshot.store` imports :mod:`etl.snapshot.schema` (to validate and to know the tables);
the errors live here so that neither has to import the other for them.
"""

from __future__ import annotations


class SnapshotError(RuntimeError):
    """No usable snapshot, or a snapshot folder that is not one."""


class SchemaError(SnapshotError):
    """Tables that do not match the snapshot contract (etl/snapshot/schema.py): the message names
    every table and column that differs, what was expected and what was found."""
