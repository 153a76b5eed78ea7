"""Alias kept for the admin tests that import ``tests.etl.tiny_export``: the hand-written raw
export now lives in the one raw-export builder, tests/builders/raw_export.py."""

from __future__ import annotations

from tests.builders.raw_export import records, write

__all__ = ["records", "write"]
