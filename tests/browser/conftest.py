"""Browser-test fixtures: the hand-made snapshot (fixture_snapshot.py) published into a temp data dir."""

from __future__ import annotations

from pathlib import Path

import pytest
from fixture_cities import publish_cities
from fixture_snapshot import publish_fixture

from etl.config import load_config
from report.app import create_app


@pytest.fixture(scope="session")
def fixture_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data_dir = tmp_path_factory.mktemp("report-data")
    publish_fixture(data_dir)
    return data_dir


@pytest.fixture
def report_app(fixture_data_dir: Path):
    """A fresh app per test (callbacks are per instance), serving the fixture snapshot."""
    return create_app(load_config(), fixture_data_dir)


@pytest.fixture(scope="session")
def cities_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data_dir = tmp_path_factory.mktemp("report-cities")
    publish_cities(data_dir)
    return data_dir


@pytest.fixture
def cities_app(cities_data_dir: Path):
    """A fresh app serving the 33-city account (fixture_cities.py)."""
    return create_app(load_config(), cities_data_dir)
