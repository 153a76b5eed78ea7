"""Shared fixtures of the simulated account's tests: one generated account (seed 7, 3 000 deals a year, one
year up to END), its view at END, and the shipped config; and a running emulator (``emu``) serving
the tiny account of tests/etl/conftest.py.  Package-scoped: generated once for all.
"""

from __future__ import annotations

import pytest

from etl.config import load_config
from etl.simulated.emulator import start_emulator
from etl.simulated.synth import generate_account
from tests.etl.simulated.synth_cases import END


@pytest.fixture(scope="package")
def account():
    return generate_account(seed=7, deals_per_year=3000, years=1.0, end=END, horizon_days=30)


@pytest.fixture(scope="package")
def view(account):
    return account.as_of(END)


@pytest.fixture(scope="package")
def config():
    return load_config()


@pytest.fixture
def emu(tiny):
    handle = start_emulator(tiny, rate_limit_per_s=1000)
    yield handle
    handle.stop()
