"""Query parsing and record filtering for the list endpoints (pure functions, no HTTP).

amoCRM accepts several ``filter[...]`` syntaxes and real clients use all of them; ranges are
inclusive at both ends; unknown filter names are ignored, as the real API does.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlencode

from etl.extract.amo_client import lenient_int

RANGE_FIELDS = ("updated_at", "created_at", "closed_at", "complete_till")


def _scalar(value: str) -> Any:
    text = value.strip()
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    try:
        return int(text)
    except ValueError:
        return text


def parse_filters(pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """``filter[...]`` query pairs → {field: scalar | list | {"from", "to"} | nested dict}.

    Accepts every syntax real clients use: ``[from]/[to]``, a bare value, ``[]`` and ``[0]``
    arrays, comma lists.
    """
    out: dict[str, Any] = {}
    for key, value in pairs:
        if not key.startswith("filter["):
            continue
        parts = [part.rstrip("]") for part in key[len("filter[") :].split("[")]
        name, rest = parts[0], parts[1:]
        values = [_scalar(item) for item in value.split(",")] if "," in value else [_scalar(value)]
        if not rest:
            if len(values) > 1:
                out.setdefault(name, [])
                if isinstance(out[name], list):
                    out[name].extend(values)
            else:
                out[name] = values[0]
        elif rest[0] == "" or rest[0].isdigit():
            current = out.get(name)
            if isinstance(current, list):
                current.extend(values)
            elif isinstance(current, dict) and rest[0].isdigit() and len(rest) > 1:
                current.setdefault(rest[0], {})[rest[1]] = values[0]
            elif rest[0].isdigit() and len(rest) > 1:  # filter[statuses][0][pipeline_id]=…
                out[name] = {rest[0]: {rest[1]: values[0]}}
            else:
                out[name] = list(values)
        else:
            sub = out.get(name)
            if not isinstance(sub, dict):
                sub = {}
                out[name] = sub
            sub[rest[0]] = values[0] if len(values) == 1 else values
    return out


def parse_order(pairs: Iterable[tuple[str, str]]) -> tuple[str, bool] | None:
    """``order[field]=asc|desc`` → (field, descending)."""
    for key, value in pairs:
        if key.startswith("order[") and key.endswith("]"):
            fld = key[len("order[") : -1]
            if fld in ("updated_at", "created_at", "id"):
                return fld, value.strip().lower() == "desc"
    return None


def parse_with(pairs: Iterable[tuple[str, str]]) -> set[str]:
    out: set[str] = set()
    for key, value in pairs:
        if key == "with":
            out.update(item.strip() for item in value.split(",") if item.strip())
    return out


def as_set(value: Any) -> set[str]:
    if isinstance(value, dict):
        items = list(value.values())
    elif isinstance(value, list):
        items = value
    else:
        items = [value]
    return {str(item) for item in items if not isinstance(item, dict)}


def time_range(value: Any) -> tuple[int | None, int | None] | None:
    if isinstance(value, dict):
        return lenient_int(value.get("from")), lenient_int(value.get("to"))
    if isinstance(value, list):
        return None
    ts = lenient_int(value)
    return (ts, None) if ts is not None else None


def _bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if str(value).lower() in ("1", "true", "y", "yes"):
        return True
    if str(value).lower() in ("0", "false", "n", "no"):
        return False
    return None


def record_predicate(filters: dict[str, Any], skip_range: str | None = None) -> Callable[[dict[str, Any]], bool]:
    """A predicate for one record from parsed filters; unknown filter names are ignored."""
    checks = record_checks(filters, skip_range)
    return lambda rec: all(check(rec) for check in checks)


def record_checks(filters: dict[str, Any], skip_range: str | None = None) -> list[Callable[[dict[str, Any]], bool]]:
    """The checks of :func:`record_predicate`, one per filter it understands (none: every record passes)."""
    checks: list[Callable[[dict[str, Any]], bool]] = []
    for name, value in filters.items():
        if name in RANGE_FIELDS:
            if name == skip_range:
                continue
            bounds = time_range(value)
            if bounds is None:
                continue
            lo, hi = bounds

            def in_range(rec: dict[str, Any], fld: str = name, lo: int | None = lo, hi: int | None = hi) -> bool:
                stamp = lenient_int(rec.get(fld))
                return stamp is not None and (lo is None or stamp >= lo) and (hi is None or stamp <= hi)

            checks.append(in_range)
        elif name in ("id", "responsible_user_id", "pipeline_id", "status_id", "entity_id", "created_by", "task_type"):
            wanted = as_set(value)
            key = "task_type_id" if name == "task_type" else name
            checks.append(lambda rec, fld=key, ids=wanted: str(rec.get(fld)) in ids)
        elif name in ("note_type", "type"):
            wanted = as_set(value)
            checks.append(lambda rec, fld=name, kinds=wanted: str(rec.get(fld)) in kinds)
        elif name in ("entity", "entity_type"):
            wanted = {entity.rstrip("s") for entity in as_set(value)}
            checks.append(lambda rec, entities=wanted: str(rec.get("entity_type", "")).rstrip("s") in entities)
        elif name == "is_completed":
            flag = _bool(value)
            if flag is not None:
                checks.append(lambda rec, done=flag: bool(rec.get("is_completed")) == done)
        elif name == "statuses" and isinstance(value, dict):
            pairs = {
                (str(item.get("pipeline_id")), str(item.get("status_id")))
                for item in value.values()
                if isinstance(item, dict)
            }
            checks.append(lambda rec, wanted=pairs: (str(rec.get("pipeline_id")), str(rec.get("status_id"))) in wanted)
    return checks


def page_links(base: str, path: str, pairs: list[tuple[str, str]], page: int, has_next: bool) -> dict[str, Any]:
    """HAL ``_links``: absolute, every query parameter kept, only ``page`` changed."""

    def href(number: int) -> str:
        kept = [(key, value) for key, value in pairs if key != "page"]
        query = urlencode([*kept, ("page", str(number))], safe="[],")
        return f"{base}{path}?{query}"

    links: dict[str, Any] = {"self": {"href": href(page)}}
    if page >= 2:
        links["first"] = {"href": href(1)}
        links["prev"] = {"href": href(page - 1)}
    if has_next:
        links["next"] = {"href": href(page + 1)}
    return links
