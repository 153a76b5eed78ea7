"""The emulator speaks amoCRM API v4 as AMOCRM.md describes, over real loopback HTTP.

The account is ``TinyAccount`` (tests/etl/conftest.py): at its ``end`` deals 0..200 exist (one
every 2 h, 201 in all), deals 7, 32, …, 182 (8 of them) are in the trash, so 193 leads are live.

The emulator's tests share these counts and :func:`get` (an authorised GET on the emulator).
"""

from __future__ import annotations

import requests

LIVE, TRASHED, ALL = 193, 8, 201


def get(emu, path, params=None, token=None, **kw):
    headers = {"Authorization": f"Bearer {token or emu.token}"}
    return requests.get(emu.url + path, params=params, headers=headers, timeout=10, **kw)
