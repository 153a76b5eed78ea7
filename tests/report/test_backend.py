"""Several hosts, one report: shared refresh, sign-in limits and cache through a real Redis (issue 13).

The test starts its own ``redis-server`` (the Debian package) on a free loopback port in a temp
folder and stops it.  Two app instances with separate process state (two Flask apps, each with
its own limiter and lock objects) stand for two hosts sharing the data folder and the Redis.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from etl.config import REPO_ROOT, load_config
from etl.transform.build import build_snapshot
from report import backend
from report import cache as report_cache
from report.admin import jobs
from tests.builders import raw_export as rx
from tests.report.admin.admin_fixtures import (  # noqa: F401  (fixtures)
    ADMIN_PASSWORD,
    admin_config,
    admin_template,
    data_dir,
    emulator,
    emulator_env,
    make_app,
    wait_until_finished,
)

AUTH = ("admin", ADMIN_PASSWORD)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    server = shutil.which("redis-server")
    assert server, "redis-server is needed: apt-get install redis-server"
    port = _free_port()
    folder = tmp_path / "redis"
    folder.mkdir()
    proc = subprocess.Popen(
        [server, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(folder), "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    url = f"redis://127.0.0.1:{port}/0"
    try:
        client = redis.Redis.from_url(url)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_two_hosts_share_one_refresh(admin_config, data_dir, emulator, redis_url, monkeypatch):  # noqa: F811
    monkeypatch.setenv("REPORT_REDIS_URL", redis_url)  # for this test's own status polling
    env = emulator_env(emulator, REPORT_ADMIN_PASSWORD=ADMIN_PASSWORD, REPORT_REDIS_URL=redis_url)
    host_a = make_app(admin_config, data_dir, env).server.test_client()
    host_b = make_app(admin_config, data_dir, env).server.test_client()
    first = host_a.post("/admin/refresh", auth=AUTH)
    assert first.status_code == 202 and first.json["joined"] is False
    second = host_b.post("/admin/refresh", auth=AUTH)
    assert second.status_code == 200 and second.json == {**first.json, "joined": True}
    paths = jobs.RefreshPaths.of(data_dir)
    # The lock that holds is Redis's, not the host's flock.
    assert backend.RedisLock(redis_url).held()
    assert not backend.FlockLock(paths.lock).held()
    status_b = host_b.get("/admin/refresh/status", auth=AUTH).json
    assert status_b["running"] and status_b["refresh"]["refresh_id"] == first.json["refresh_id"]
    st = wait_until_finished(data_dir)
    assert st["last"]["result"] == "succeeded" and st["last"]["refresh_id"] == first.json["refresh_id"]
    assert len(jobs.read_audit(paths)) == 1
    # The supervisor writes the result, then lets the lock go: give it a moment, not forever.
    deadline = time.monotonic() + 15
    while backend.RedisLock(redis_url).held() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not backend.RedisLock(redis_url).held()  # released by the supervisor at the end


def test_two_hosts_share_one_sign_in_limit(admin_config, data_dir, redis_url):  # noqa: F811
    from tests.report.admin.admin_fixtures import clean_environ

    env = clean_environ(REPORT_ADMIN_PASSWORD=ADMIN_PASSWORD, REPORT_REDIS_URL=redis_url, REPORT_TRUSTED_PROXIES="1")
    host_a = make_app(admin_config, data_dir, env).server.test_client()
    host_b = make_app(admin_config, data_dir, env).server.test_client()
    guesser, colleague = {"X-Forwarded-For": "203.0.113.7"}, {"X-Forwarded-For": "198.51.100.4"}
    for guess in range(5):  # spread over both hosts, as a load balancer would
        client = host_a if guess % 2 else host_b
        assert client.get("/admin/refresh/status", auth=("admin", f"g{guess}"), headers=guesser).status_code == 401
    assert host_a.get("/admin/refresh/status", auth=AUTH, headers=guesser).status_code == 429
    assert host_b.get("/admin/refresh/status", auth=AUTH, headers=guesser).status_code == 429
    assert host_b.get("/admin/refresh/status", auth=AUTH, headers=colleague).status_code == 200


def test_two_hosts_share_one_cache_entry(tmp_path, redis_url):
    env = {"REPORT_REDIS_URL": redis_url}
    host_a, host_b = backend.kv_store(tmp_path / "a", env), backend.kv_store(tmp_path / "b", env)
    assert host_b.get("snap1/funnel/abc") is None
    host_a.set("snap1/funnel/abc", b"\x00arrow-bytes")
    assert host_b.get("snap1/funnel/abc") == b"\x00arrow-bytes"
    ttl = redis.Redis.from_url(redis_url).ttl("report:kv:metrics:snap1/funnel/abc")
    assert 0 < ttl <= backend.DEFAULT_KV_TTL_S  # bounded: every entry expires


def test_without_redis_the_store_is_a_local_folder(tmp_path):
    store = backend.kv_store(tmp_path, {})
    store.set("k", b"v")
    assert backend.kv_store(tmp_path, {}).get("k") == b"v"  # another process on this host sees it
    assert backend.kv_store(tmp_path / "elsewhere", {}).get("k") is None


def test_a_lapsed_redis_lock_frees_the_next_refresh(redis_url):
    """A supervisor killed with SIGKILL stops renewing: the lock lapses after its TTL."""
    lock = backend.RedisLock(redis_url, ttl_s=0.3)
    token = lock.try_acquire()
    assert token and lock.try_acquire() is None
    time.sleep(0.5)
    assert not lock.held() and lock.try_acquire() is not None


#: One host: the report app over its own data folder, one metric through the app's cache; prints
#: what the cache did.  Run twice, as two processes with different folders, for two hosts.
HOST_SCRIPT = """
import json, sys
from datetime import date
from pathlib import Path
from etl.config import load_config
from etl.snapshot.store import open_current
from report import cache
from report.app import create_app
from report.metrics.filters import Filters
data, config = Path(sys.argv[1]), load_config()
create_app(config, data)
df = cache.compute_metric(open_current(data / "snapshots"), "deals.created", Filters(date(2026, 3, 1), date(2026, 3, 31)))
print(json.dumps({"hits": cache._CACHE.hits, "misses": cache._CACHE.misses, "deals": df["deals"].to_list()}))
"""


def test_two_hosts_share_the_metric_cache(tmp_path, redis_url):
    build_snapshot(rx.write(tmp_path / "raw"), load_config(), tmp_path / "a")
    shutil.copytree(tmp_path / "a", tmp_path / "b")  # the same snapshot on the second host's disk
    env = {**os.environ, "REPORT_REDIS_URL": redis_url}

    def host(folder: str) -> dict:
        cmd = [sys.executable, "-c", HOST_SCRIPT, str(tmp_path / folder)]
        out = subprocess.run(cmd, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120, check=True)
        return json.loads(out.stdout.strip().splitlines()[-1])

    # Deals created in March 2026: #1-#9 of the hand export but the deleted #4.
    assert host("a") == {"hits": 0, "misses": 1, "deals": [8]}  # computed, stored in Redis
    assert host("b") == {"hits": 1, "misses": 0, "deals": [8]}  # read, not computed
    keys = redis.Redis.from_url(redis_url).keys("report:kv:metrics:*")
    assert len(keys) == 1  # one entry for both hosts
    assert not (tmp_path / "b" / "cache").exists()  # not from a local diskcache


def test_without_redis_the_metric_cache_is_a_local_folder(tmp_path, monkeypatch):
    monkeypatch.setattr(report_cache, "_CACHE", None)  # restored after the test
    local = report_cache.configure_cache(tmp_path / "cache", 2**20, environ={})
    assert (tmp_path / "cache").is_dir() and not isinstance(local._cache, backend.RedisKV)
    local.close()
