"""Fixtures of the admin tests live in admin_fixtures.py (a unique module name, importable by tests)."""

from admin_fixtures import admin_config, admin_template, data_dir, emulator  # noqa: F401
