"""The refresh job's pure parts (progress → bar, outcome, audit line) and its stale-lock recovery."""

from __future__ import annotations

import json

from report.admin import jobs
from report.admin.texts import error_text, result_text, stage_text


def progress(**kw):
    base = {"state": "running", "stage": "pull", "collection": None, "collections": {}, "error": None}
    return {**base, **kw}


def test_percent_follows_collections_then_stages():
    assert jobs.percent(progress()) == 5
    # 2 of 10 collections done: 5 + 75 * 2/10 = 20
    cols = {"account": {"done": True}, "users": {"done": True}, "pipelines": {"done": False}}
    assert jobs.percent(progress(collections=cols)) == 20
    assert jobs.percent(progress(stage="build")) == 85
    assert jobs.percent(progress(stage="publish")) == 95
    assert jobs.percent(progress(state="succeeded", stage="done")) == 100


def test_stage_text_names_the_collection_with_counts():
    p = progress(collection="leads", collections={"leads": {"records": 1234, "requests": 6, "done": False}})
    assert stage_text(p, "ru") == "Загрузка из amoCRM: сделки — 1 234 записей, 6 запросов"
    assert stage_text(p, "en") == "Pulling from amoCRM: deals — 1,234 records, 6 requests"
    assert stage_text(progress(stage="build"), "ru") == "Сборка снимка данных"


def test_outcome():
    ok = progress(state="succeeded", stage="done")
    assert jobs.outcome(0, ok, False) == ("succeeded", None)
    assert jobs.outcome(0, ok, True) == ("succeeded", None)  # published before the cancel arrived
    assert jobs.outcome(1, progress(state="cancelled"), True) == ("cancelled", None)
    failed = progress(state="failed", error={"kind": "blocked", "message": "IP заблокирован"})
    assert jobs.outcome(1, failed, False) == ("failed", {"kind": "blocked", "message": "IP заблокирован"})
    assert jobs.outcome(-9, progress(), False) == (
        "failed",
        {"kind": "internal", "message": "процесс обновления остановлен сигналом 9"},
    )


def test_audit_record_counts_records_and_duration():
    cur = {"refresh_id": "r1", "who": "admin", "via": "http", "started_at": "2026-11-30T04:00:00Z"}
    p = progress(
        state="succeeded",
        snapshot_id="s1",
        collections={"leads": {"records": 9, "requests": 2, "done": True}, "users": {"records": 3, "requests": 1}},
    )
    rec = jobs.audit_record(cur, p, "succeeded", None, 0, "2026-11-30T04:01:05Z")
    assert rec["records_pulled"] == 12 and rec["requests"] == 3
    assert rec["duration_s"] == 65.0
    assert rec["who"] == "admin" and rec["snapshot_id"] == "s1"
    assert result_text(rec, "ru") == "Данные обновлены: 12 записей загружено за 1 мин 5 с, новый снимок показан."


def test_error_in_words():
    assert error_text({"kind": "auth", "message": ""}, "ru").startswith("amoCRM не принял токен доступа")
    rec = {"result": "failed", "error": {"kind": "network", "message": "503"}}
    assert result_text(rec, "en") == (
        "Refresh failed: amoCRM is unavailable (network or amoCRM server errors) (503). "
        "The previous data is still shown."
    )


def test_a_current_json_left_by_a_killed_supervisor_is_recorded_as_failed(tmp_path):
    """Nobody holds the lock, so the run is dead: status says so once, in the audit and as last result."""
    paths = jobs.RefreshPaths.of(tmp_path)
    paths.root.mkdir()
    jobs.write_json(paths.current, {"refresh_id": "r0", "pid": 999999, "who": "admin", "started_at": "x"})
    st = jobs.status(tmp_path)
    assert st["running"] is False
    assert st["last"]["refresh_id"] == "r0" and st["last"]["result"] == "failed"
    assert st["last"]["error"]["kind"] == "internal"
    assert not paths.current.exists()
    lines = paths.audit.read_text(encoding="utf-8").splitlines()
    assert [json.loads(x)["refresh_id"] for x in lines] == ["r0"]
    assert jobs.cancel(tmp_path) is None  # nothing to cancel


def test_the_bar_moves_through_the_build_step_by_step():
    def step(key, index, part=None, count=None, stage="build"):
        return progress(stage=stage, step={"key": key, "index": index, "total": 8, "count": count, "part": part})

    # reading 9 files: file 1 → 80 %, after 4 of 9 files → 80 + 19 × (4/9)/8 = 81,06 → 81
    assert jobs.percent(step("read", 1, part=[0, 9])) == 80
    assert jobs.percent(step("read", 1, part=[4, 9])) == 81
    # status history is step 3: 80 + 19 × 2/8 = 84,75 → 85; writing (step 7) 80 + 19 × 6/8 = 94,25 → 94
    assert jobs.percent(step("entries", 3)) == 85
    assert jobs.percent(step("write", 7, stage="publish")) == 94
    assert jobs.percent(step("publish", 8, stage="publish")) == 97  # 80 + 19 × 7/8 = 96,6
    values = [jobs.percent(step(k, i + 1)) for i, k in enumerate(("read", "deals", "entries", "touches", "tasks"))]
    assert values == sorted(set(values))  # every step moves the bar


def test_stage_text_of_a_build_step_says_which_and_how_many():
    p = progress(stage="build", step={"key": "entries", "index": 3, "total": 8, "count": 2_700_000, "part": None})
    assert stage_text(p, "ru") == "Сборка снимка данных, шаг 3 из 8: история статусов — 2,7 млн событий"
    assert stage_text(p, "en") == "Building the data snapshot, step 3 of 8: status history — 2.7M events"
    reading = progress(stage="build", step={"key": "read", "index": 1, "total": 8, "count": 1234, "part": [2, 9]})
    assert stage_text(reading, "ru") == (
        "Сборка снимка данных, шаг 1 из 8: чтение выгрузки — 1 234 записей прочитано (файл 3 из 9)"
    )
    publish = progress(stage="publish", step={"key": "publish", "index": 8, "total": 8, "count": None, "part": None})
    assert stage_text(publish, "ru") == "Публикация нового снимка, шаг 8 из 8: переключение на новый снимок"
