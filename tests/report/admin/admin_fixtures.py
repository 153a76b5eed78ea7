"""Fixtures for the admin tests: a small published snapshot, an emulator serving a tiny account, an app.

The "old" snapshot is built from tests/etl/tiny_export.py (pulled_at 2026-03-15T00:00Z, so the
report says "data as of 15.03.2026 03:00" in Moscow time); a refresh pulls the same tiny account
from the emulator (11 requests, about 2 s at 7 requests/s) and publishes a snapshot whose data is
"as of" the moment of the pull.
"""

from __future__ import annotations

import os
import re
import shutil
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from etl.config import REPO_ROOT, Config, load_config
from etl.simulated.emulator import EmulatorHandle, load_raw_view, start_emulator
from etl.transform.build import build_snapshot
from report.admin import ids, jobs
from tests.etl import tiny_export

ADMIN_PASSWORD = "correct horse battery staple"
VIEWER_KEY = "viewer-key-1234"


def clean_environ(**extra: str) -> dict[str, str]:
    """The test process's environment without any REPORT_* / AMOCRM_* a developer may have set."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REPORT_", "AMOCRM_"))}
    env.update(extra)
    return env


@pytest.fixture(scope="session")
def admin_template(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("admin-template")
    raw0 = base / "raw0"
    tiny_export.write(raw0)
    # Fewer retries than production so that an injected outage fails in a second, not a minute.
    text = (REPO_ROOT / "config.yaml").read_text(encoding="utf-8")
    text = text.replace("max_retries: 6", "max_retries: 1").replace("timeout_s: 30", "timeout_s: 5")
    cfg_path = base / "config.yaml"
    cfg_path.write_text(text, encoding="utf-8")
    data = base / "data"
    build_snapshot(raw0, load_config(cfg_path), data)
    return {"raw": raw0, "data": data, "config": cfg_path}


@pytest.fixture
def admin_config(admin_template: dict[str, Path]) -> Config:
    return load_config(admin_template["config"])


@pytest.fixture
def data_dir(admin_template: dict[str, Path], tmp_path: Path) -> Path:
    """A fresh copy of the data folder (the old snapshot published, no raw export, no refresh yet)."""
    dst = tmp_path / "data"
    shutil.copytree(admin_template["data"], dst)
    return dst


@pytest.fixture
def emulator(admin_template: dict[str, Path]) -> Iterator[EmulatorHandle]:
    handle = start_emulator(load_raw_view(admin_template["raw"]))
    try:
        yield handle
    finally:
        handle.stop()


def emulator_env(handle: EmulatorHandle, token: str | None = None, **extra: str) -> dict[str, str]:
    return clean_environ(AMOCRM_BASE_URL=handle.url, AMOCRM_ACCESS_TOKEN=token or handle.token, **extra)


def make_app(config: Config, data_dir: Path, environ: Mapping[str, str]) -> Any:
    from report import admin
    from report.app import create_app

    app = create_app(config, data_dir, extra_layout=admin.panel_layout)
    admin.install(app, config, data_dir, environ=environ)
    return app


def wait_until_finished(data_dir: Path, limit_s: float = 90.0) -> dict[str, Any]:
    """Poll until no refresh runs; the limit only stops a hung test, it asserts nothing about speed."""
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        st = jobs.status(data_dir)
        if not st["running"]:
            return st
        time.sleep(0.1)
    raise AssertionError(f"refresh still running after {limit_s} s: {jobs.status(data_dir)}")


def wait_for_stage(data_dir: Path, predicate: Any, limit_s: float = 60.0) -> dict[str, Any]:
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        st = jobs.status(data_dir)
        if st["running"] and st["refresh"] and predicate(st["refresh"]):
            return st
        if not st["running"] and st.get("last"):
            raise AssertionError(f"refresh ended before the expected stage: {st['last']}")
        time.sleep(0.05)
    raise AssertionError(f"stage not reached in {limit_s} s: {jobs.status(data_dir)}")


def login(client, user="admin", password=ADMIN_PASSWORD):
    page = client.get("/admin/login").get_data(as_text=True)
    csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    return client.post("/admin/login", data={"csrf": csrf, "user": user, "password": password, "next": "/funnels"})


def csrf_of(client, page: str = "/admin/login") -> str:
    """The session's CSRF token, as a form on ``page`` carries it."""
    html_text = client.get(page).get_data(as_text=True)
    return re.search(r'name="csrf" value="([^"]+)"', html_text).group(1)


def logout(client):
    return client.post("/admin/logout", data={"csrf": csrf_of(client, "/admin/logout")})


def dash_post(client, trigger: str, value=1, origin="http://localhost", headers=None):
    """POST /_dash-update-component for the panel's act callback, as the browser's renderer would."""
    deps = client.get("/_dash-dependencies").json
    dep = next(d for d in deps if f"{ids.JOB}.data" in d["output"])
    outputs = [{"id": o.split(".")[0], "property": o.split(".")[1]} for o in dep["output"].strip(".").split("...")]
    payload = {
        "output": dep["output"],
        "outputs": outputs,
        "inputs": [
            {"id": ids.REFRESH, "property": "n_clicks", "value": value if trigger == ids.REFRESH else 0},
            {"id": ids.CANCEL, "property": "n_clicks", "value": value if trigger == ids.CANCEL else 0},
        ],
        "changedPropIds": [f"{trigger}.n_clicks"],
        "state": [{"id": "view-state", "property": "data", "value": {"lang": "ru"}}],
    }
    if headers is None:
        headers = {"Origin": origin} if origin else {}
    return client.post("/_dash-update-component", json=payload, headers=headers)
