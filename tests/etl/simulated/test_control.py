"""The control endpoints: faults set over HTTP, the request log read back."""

from __future__ import annotations

import json

import requests

from tests.etl.simulated.emulator_cases import get


def test_faults_settable_over_http_and_log_readable(emu):
    r = requests.post(emu.url + "/_emulator/faults", json={"phantom_next": True, "error_rate": 0.5}, timeout=5)
    assert r.json()["phantom_next"] is True and r.json()["error_rate"] == 0.5
    assert requests.post(emu.url + "/_emulator/faults", json={"bogus": 1}, timeout=5).status_code == 400
    requests.post(emu.url + "/_emulator/faults", json={"phantom_next": False, "error_rate": 0}, timeout=5)
    get(emu, "/api/v4/users")
    log = requests.get(emu.url + "/_emulator/log", timeout=5).json()["requests"]
    assert log[-1]["path"] == "/api/v4/users" and log[-1]["status"] == 200 and log[-1]["token_id"]
    assert emu.token not in json.dumps(log)  # the log names tokens by id, never by value
