"""The HTTP handler: the per-token rate limit and the fault switches."""

from __future__ import annotations

import pytest
import requests

from etl.simulated.emulator import sliding_window_max, start_emulator
from tests.etl.simulated.emulator_cases import get


def test_more_than_the_limit_per_second_gets_429(tiny):
    with start_emulator(tiny, rate_limit_per_s=7) as emu:
        codes = [get(emu, "/api/v4/account").status_code for _ in range(12)]
        assert codes[:7] == [200] * 7 and 429 in codes[7:]  # 12 back-to-back requests take far less than 1 s
        other = emu.issue_token()
        assert get(emu, "/api/v4/account", token=other).status_code == 200  # the limit is per token
        times = [e.mono for e in emu.request_log()]
        assert sliding_window_max(times) >= 8


def test_fault_switches(emu):
    emu.set_faults(block=True)
    r = get(emu, "/api/v4/leads")
    assert r.status_code == 403 and r.headers["Content-Type"].startswith("text/html") and "<html" in r.text
    emu.set_faults(block=False, unpaid=True)
    assert get(emu, "/api/v4/leads").status_code == 402
    emu.set_faults(unpaid=False, phantom_next=True)
    last = get(emu, "/api/v4/leads", {"limit": 50, "page": 4}).json()
    assert len(last["_embedded"]["leads"]) == 43 and "next" in last["_links"]  # phantom: page 5 is a 204
    emu.set_faults(phantom_next=False, malformed_rate=1.0)
    with pytest.raises(ValueError):
        get(emu, "/api/v4/leads").json()
    emu.set_faults(malformed_rate=0.0, drop_rate=1.0)
    try:  # urllib3 2 raises; urllib3 1.26 hands back a truncated body: either way it is incomplete
        r = get(emu, "/api/v4/leads", {"limit": 250})
        assert len(r.content) < int(r.headers["Content-Length"])
    except requests.exceptions.RequestException:
        pass
    emu.set_faults(drop_rate=0.0, error_rate=1.0, error_status=502)
    assert get(emu, "/api/v4/leads").status_code == 502
    emu.set_faults(error_rate=0.0, fail_after=0)
    assert get(emu, "/api/v4/leads").status_code == 502
    emu.clear_faults()
    assert get(emu, "/api/v4/leads").status_code == 200
    emu.set_faults(slow_s=0.3)
    with pytest.raises(requests.exceptions.Timeout):
        requests.get(emu.url + "/api/v4/account", headers={"Authorization": f"Bearer {emu.token}"}, timeout=0.1)
    emu.clear_faults()
    with pytest.raises(ValueError):
        emu.set_faults(no_such_fault=True)
