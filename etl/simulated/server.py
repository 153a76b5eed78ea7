"""Start and stop an emulator: a threaded HTTP server on 127.0.0.1 and the handle tests turn knobs on."""

from __future__ import annotations

import threading
from datetime import datetime
from http.server import ThreadingHTTPServer
from typing import Any

from etl.simulated.faults import Faults
from etl.simulated.handler import Handler
from etl.simulated.request_log import LogEntry
from etl.simulated.sources import as_source
from etl.simulated.state import EmulatorState
from etl.simulated.tokens import ACCESS_TTL_S, STATIC_TOKEN_TTL_S, OAuthClient


class EmulatorHandle:
    """A running emulator: its URL, its state, and the knobs tests turn."""

    def __init__(self, server: ThreadingHTTPServer, state: EmulatorState, thread: threading.Thread, token: str) -> None:
        self.server = server
        self.state = state
        self.thread = thread
        self.token = token
        host, port = server.server_address[:2]
        self.url = f"http://{host}:{port}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)

    def __enter__(self) -> EmulatorHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def advance(self, seconds: float) -> datetime:
        return self.state.advance(seconds)

    def set_faults(self, **values: Any) -> None:
        with self.state.lock:
            self.state.faults.update(values)

    def clear_faults(self) -> None:
        with self.state.lock:
            self.state.faults = Faults(seed=self.state.faults.seed)
            self.state.touches_done = 0

    def request_log(self) -> list[LogEntry]:
        with self.state.lock:
            return list(self.state.log)

    def clear_log(self) -> None:
        with self.state.lock:
            self.state.log.clear()

    def issue_token(self, ttl_s: float = ACCESS_TTL_S) -> str:
        return self.state.issue_access(ttl_s)

    def add_client(self, client_id: str, client_secret: str, redirect_uri: str) -> None:
        with self.state.lock:
            self.state.clients[client_id] = OAuthClient(client_id, client_secret, redirect_uri)

    def authorize(self, client_id: str) -> str:
        return self.state.authorize(client_id)

    def records(self, collection: str) -> list[dict[str, Any]]:
        """What the emulator now serves for a collection (touches applied), for comparisons."""
        return self.state.current().collection(collection).all_records()

    def view(self) -> dict[str, Any]:
        """The view now served, as dicts (touches not applied)."""
        return self.state.current().view.as_dict()


def start_emulator(
    source: Any,
    *,
    port: int = 0,
    token: str | None = None,
    rate_limit_per_s: float = 7.0,
    clock: datetime | None = None,
    faults: dict[str, Any] | None = None,
    quiet: bool = True,
) -> EmulatorHandle:
    """Serve ``source`` on 127.0.0.1 in a background thread; ``token`` (or a generated one) is valid.

    ``source`` is a view dict, an account with ``as_of()`` (the synthetic one), or an AccountSource.
    """
    state = EmulatorState(as_source(source, clock), rate_limit_per_s=rate_limit_per_s, quiet=quiet)
    if faults:
        state.faults.update(faults)
    state.current()  # build the first view now, so the first request is not slow
    if token is None:
        token = state.issue_access(STATIC_TOKEN_TTL_S)
    else:
        state.add_static_token(token)
    handler = type("BoundHandler", (Handler,), {"state": state})
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    server.daemon_threads = True
    server.block_on_close = False
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="amocrm-emulator", daemon=True
    )
    thread.start()
    return EmulatorHandle(server, state, thread, token)
