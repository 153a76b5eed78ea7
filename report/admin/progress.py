"""The refresh's progress file in numbers and words for the admin: the bar's percent, the fields
an admin may see, the outcome of a finished run and its audit line. Pure functions of the
progress object ``etl.progress.Progress`` writes (split out of ``jobs``, which runs the job).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

#: Collections a full pull reads (etl.extract.pull), for the pull's share of the bar.
EXPECTED_COLLECTIONS = 10


def parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def public_progress(progress: Mapping[str, Any]) -> dict[str, Any]:
    """The progress file's fields an admin may see (the child's pid is of no use over HTTP)."""
    keys = (
        "state",
        "stage",
        "collection",
        "collections",
        "step",
        "message",
        "error",
        "snapshot_id",
        "started_at",
        "updated_at",
    )
    return {k: progress.get(k) for k in keys}


def _collections(progress: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    cols = progress.get("collections")
    if not isinstance(cols, dict):
        return {}
    return {str(k): v for k, v in cols.items() if isinstance(v, dict)}


def records_pulled(progress: Mapping[str, Any]) -> dict[str, int]:
    return {name: int(c.get("records") or 0) for name, c in _collections(progress).items()}


def requests_made(progress: Mapping[str, Any]) -> int:
    return sum(int(c.get("requests") or 0) for c in _collections(progress).values())


def build_step(progress: Mapping[str, Any]) -> dict[str, Any] | None:
    """The build step the progress file names (``etl.progress.Progress.build_step``), if any."""
    step = progress.get("step")
    if not isinstance(step, dict) or not step.get("index") or not step.get("total"):
        return None
    return step


def percent(progress: Mapping[str, Any], expected_collections: int = EXPECTED_COLLECTIONS) -> int:
    """A progress bar value: pulling fills 5–80 % by finished collections; the build and publish
    fill 80–99 % step by step (each step its share, a step with parts — files read — moving
    within it); 100 when done. Without step information (an older refresh): build 85, publish 95.

    Pull time per collection differs a lot (events dwarf users), but the count of finished
    collections is the honest figure we have; the stage text carries the record counts.
    """
    state, stage = progress.get("state"), progress.get("stage")
    if state == "succeeded" or stage == "done":
        return 100
    if stage in ("build", "publish"):
        step = build_step(progress)
        if step is None:
            return 85 if stage == "build" else 95
        part = step.get("part")
        within = part[0] / part[1] if isinstance(part, list) and len(part) == 2 and part[1] else 0.0
        done = (int(step["index"]) - 1 + min(1.0, max(0.0, within))) / int(step["total"])
        return min(99, 80 + round(19 * done))
    cols = _collections(progress)
    total = max(len(cols), expected_collections, 1)
    done = sum(1 for c in cols.values() if c.get("done"))
    return min(80, 5 + round(75 * done / total))


def outcome(
    exit_code: int | None, progress: Mapping[str, Any], cancel_requested: bool
) -> tuple[str, dict[str, Any] | None]:
    """(result, error) of a finished refresh from its exit code and last progress.

    A refresh that published before the cancel arrived did succeed; a child that died without a word
    (killed, crashed) is a failure of kind "internal".
    """
    state = progress.get("state")
    if exit_code == 0 and state == "succeeded":
        return "succeeded", None
    if cancel_requested or state == "cancelled":
        return "cancelled", None
    err = progress.get("error")
    if isinstance(err, dict) and err.get("kind"):
        return "failed", {"kind": str(err["kind"]), "message": str(err.get("message") or "")}
    if exit_code == 0:
        msg = "обновление завершилось, но не сообщило об успехе"
    elif exit_code is not None and exit_code < 0:
        msg = f"процесс обновления остановлен сигналом {-exit_code}"
    else:
        msg = f"процесс обновления завершился с кодом {exit_code}"
    return "failed", {"kind": "internal", "message": msg}


def audit_record(
    cur: Mapping[str, Any],
    progress: Mapping[str, Any],
    result: str,
    error: Mapping[str, Any] | None,
    exit_code: int | None,
    finished_at: str,
) -> dict[str, Any]:
    """The audit line: who, when, how long, records pulled, result."""
    started_at = cur.get("started_at") or progress.get("started_at")
    t0, t1 = parse_time(started_at), parse_time(finished_at)
    records = records_pulled(progress)
    return {
        "refresh_id": cur.get("refresh_id") or progress.get("refresh_id"),
        "who": cur.get("who"),
        "via": cur.get("via"),
        "started_at": started_at,
        "finished_at": finished_at,
        "duration_s": round((t1 - t0).total_seconds(), 1) if t0 and t1 else None,
        "records_pulled": sum(records.values()),
        "records": records,
        "requests": requests_made(progress),
        "result": result,
        "error": dict(error) if error else None,
        "snapshot_id": progress.get("snapshot_id") if result == "succeeded" else None,
        "exit_code": exit_code,
    }
