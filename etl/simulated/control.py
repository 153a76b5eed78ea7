"""Control endpoints (no auth, loopback only): what tests and the demo turn while a client pulls.

``POST /_emulator/advance {"seconds": N}``, ``GET|POST /_emulator/faults``, ``GET /_emulator/log``,
``POST /_emulator/log/clear``, ``POST /_emulator/tokens {"ttl_s": N, "refresh": bool}``,
``POST /_emulator/authorize {"client_id": …}``, ``GET /_emulator/state``.  Every answer is JSON.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

from etl.simulated.state import EmulatorState
from etl.simulated.tokens import ACCESS_TTL_S

Answer = tuple[int, dict[str, Any]]


def control(state: EmulatorState, method: str, path: str, query: str, body: dict[str, Any] | None) -> Answer:
    """(status, JSON body) of one control request; ``body`` None = it was not a JSON object."""
    if body is None:
        return 400, {"error": "body must be a JSON object"}
    if path == "/_emulator/advance" and method == "POST":
        return _advance(state, body)
    if path == "/_emulator/faults":
        return _faults(state, method, body)
    if path == "/_emulator/log" and method == "GET":
        since = int(dict(parse_qsl(query)).get("since", 0) or 0)
        with state.lock:
            rows = [entry.__dict__ for entry in state.log[since:]]
        return 200, {"requests": rows, "next": since + len(rows)}
    if path == "/_emulator/log/clear" and method == "POST":
        with state.lock:
            state.log.clear()
        return 200, {"ok": True}
    if path == "/_emulator/tokens" and method == "POST":
        ttl = float(body.get("ttl_s", ACCESS_TTL_S))
        if body.get("refresh"):
            client_id = str(body.get("client_id") or next(iter(state.clients), "emulator"))
            return 200, state.issue_pair(client_id, ttl)
        return 200, {"access_token": state.issue_access(ttl)}
    if path == "/_emulator/authorize" and method == "POST":
        client_id = str(body.get("client_id") or "")
        if client_id not in state.clients:
            return 400, {"error": f"unknown client_id {client_id!r}"}
        return 200, {"code": state.authorize(client_id)}
    if path == "/_emulator/state" and method == "GET":
        return 200, {"clock": state.clock.isoformat(), "counts": state.current().view.counts()}
    return 404, {"error": f"no control endpoint {method} {path}"}


def _advance(state: EmulatorState, body: dict[str, Any]) -> Answer:
    try:
        seconds = float(body.get("seconds", 0))
    except (TypeError, ValueError):
        return 400, {"error": "seconds must be a number"}
    return 200, {"clock": state.advance(seconds).isoformat()}


def _faults(state: EmulatorState, method: str, body: dict[str, Any]) -> Answer:
    if method == "POST":
        try:
            with state.lock:
                state.faults.update(body)
        except ValueError as exc:
            return 400, {"error": str(exc)}
    return 200, state.faults.as_dict()
