"""The API v4 endpoints: a GET request's path and query → (status, payload), no HTTP plumbing.

HAL lists with absolute ``_links`` that keep every query parameter and change only ``page``;
``limit`` default 50, max 250 (events 100; more → 50 silently, as amoCRM does); 204 with an empty
body for an empty page or an unknown id; ``with=`` decides what records embed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from etl.simulated.query import page_links, parse_filters, parse_order, parse_with

if TYPE_CHECKING:
    from etl.simulated.state import EmulatorState

#: List endpoints: path → (collection in the view, key under ``_embedded``, max limit).
LIST_ROUTES: dict[str, tuple[str, str, int]] = {
    "/api/v4/leads": ("leads", "leads", 250),
    "/api/v4/contacts": ("contacts", "contacts", 250),
    "/api/v4/events": ("events", "events", 100),
    "/api/v4/leads/notes": ("lead_notes", "notes", 250),
    "/api/v4/contacts/notes": ("contact_notes", "notes", 250),
    "/api/v4/tasks": ("tasks", "tasks", 250),
    "/api/v4/users": ("users", "users", 250),
    "/api/v4/leads/custom_fields": ("lead_fields", "custom_fields", 250),
}
#: Single-object endpoints ``/api/v4/<x>/<id>``.
ENTITY_ROUTES: dict[str, str] = {
    "/api/v4/leads": "leads",
    "/api/v4/contacts": "contacts",
    "/api/v4/tasks": "tasks",
    "/api/v4/users": "users",
}
DEFAULT_LIMIT = 50


def problem(status: int, title: str, detail: str, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """An RFC 7807 problem+json body, as amoCRM answers errors."""
    body = {"title": title, "type": "https://httpstatus.es/" + str(status), "status": status, "detail": detail}
    body.update(extra or {})
    return body


def resolve(state: EmulatorState, path: str, query: str, base: str) -> tuple[int, Any]:
    """The answer to ``GET path?query``; ``base`` is the scheme and host the client used."""
    pairs = parse_qsl(query, keep_blank_values=True)
    with_ = parse_with(pairs)
    if path == "/api/v4/account":
        return 200, _account(state, base, with_)
    if path == "/api/v4/leads/pipelines":
        pipes = [
            _with_self(pipe, base, "/api/v4/leads/pipelines")
            for pipe in state.current().collection("pipelines").all_records()
        ]
        return 200, {
            "_total_items": len(pipes),
            "_links": {"self": {"href": f"{base}{path}"}},
            "_embedded": {"pipelines": pipes},
        }
    if path in LIST_ROUTES:
        return _list(state, path, pairs, base, with_)
    head, _, tail = path.rpartition("/")
    if head in ENTITY_ROUTES and tail.isdigit():
        rec = state.current().collection(ENTITY_ROUTES[head]).find(tail)
        if rec is None:
            return 204, None
        return 200, _shape(state, ENTITY_ROUTES[head], rec, base, head, with_)
    return 404, problem(404, "Not Found", f"no API endpoint {path}")


def _account(state: EmulatorState, base: str, with_: set[str]) -> dict[str, Any]:
    account = dict(state.current().view.account or {})
    embedded = dict(account.get("_embedded") or {})
    if "datetime_settings" not in with_:
        embedded.pop("datetime_settings", None)
    if embedded:
        account["_embedded"] = embedded
    else:
        account.pop("_embedded", None)
    account.setdefault("_links", {"self": {"href": f"{base}/api/v4/account"}})
    return account


def _with_self(rec: dict[str, Any], base: str, path: str) -> dict[str, Any]:
    if "_links" in rec:
        return rec
    return {**rec, "_links": {"self": {"href": f"{base}{path}/{rec.get('id')}"}}}


def _shape(
    state: EmulatorState, collection: str, rec: dict[str, Any], base: str, path: str, with_: set[str]
) -> dict[str, Any]:
    """A record as the API shows it for this request: ``with=`` decides what is embedded."""
    rec = _with_self(rec, base, path)
    if collection in ("leads", "deleted_leads"):
        emb = rec.get("_embedded")
        if isinstance(emb, dict) and "contacts" in emb and "contacts" not in with_:
            rec = {**rec, "_embedded": {key: value for key, value in emb.items() if key != "contacts"}}
    elif collection == "contacts":
        emb = rec.get("_embedded") if isinstance(rec.get("_embedded"), dict) else {}
        if "leads" in with_:
            links = state.current().contact_leads().get(str(rec.get("id")), [])
            rec = {**rec, "_embedded": {**emb, "leads": emb.get("leads", links)}}
        elif "leads" in emb:
            rec = {**rec, "_embedded": {key: value for key, value in emb.items() if key != "leads"}}
    return rec


class BadPaging(ValueError):
    """``page`` or ``limit`` is not a positive integer: the request gets 400 with this problem."""

    def __init__(self, body: dict[str, Any]) -> None:
        super().__init__(body["detail"])
        self.body = body


def _page_and_limit(params: dict[str, str], max_limit: int) -> tuple[int, int]:
    try:
        page = int(params.get("page", "1") or 1)
        limit = int(params.get("limit", str(DEFAULT_LIMIT)) or DEFAULT_LIMIT)
    except ValueError:
        raise BadPaging(
            problem(400, "Bad Request", "page and limit must be integers", {"validation-errors": [{"path": "limit"}]})
        ) from None
    if page < 1 or limit < 1:
        raise BadPaging(problem(400, "Bad Request", "page and limit must be positive"))
    return page, (DEFAULT_LIMIT if limit > max_limit else limit)  # amoCRM silently falls back to 50


def _list(state: EmulatorState, path: str, pairs: list[tuple[str, str]], base: str, with_: set[str]) -> tuple[int, Any]:
    collection, key, max_limit = LIST_ROUTES[path]
    try:
        page, limit = _page_and_limit(dict(pairs), max_limit)
    except BadPaging as exc:
        return 400, exc.body
    if collection == "users" and state.faults.users_forbidden:
        return 403, problem(403, "Forbidden", "Only account administrators may list users")
    if collection == "leads" and "only_deleted" in with_:
        collection = "deleted_leads"
    if collection in ("leads", "contacts", "lead_notes", "contact_notes", "tasks") and state.faults.touch_per_request:
        state.touch(collection, state.faults.touch_per_request)
    idx = state.current().collection(collection)
    rows = idx.select(parse_filters(pairs), parse_order(pairs), (page - 1) * limit, limit)
    if not rows:
        return 204, None
    has_more = len(rows) > limit
    shaped = [_shape(state, collection, row, base, path, with_) for row in rows[:limit]]
    payload: dict[str, Any] = {"_page": page}
    if collection == "users":
        total = len(idx)
        payload["_total_items"] = total
        payload["_page_count"] = max(1, -(-total // limit))
    payload["_links"] = page_links(base, path, pairs, page, has_more or state.faults.phantom_next)
    payload["_embedded"] = {key: shaped}
    return 200, payload
