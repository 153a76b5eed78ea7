"""Query parsing: every ``filter[...]`` syntax real clients send."""

from __future__ import annotations

from etl.simulated.emulator import parse_filters


def test_parse_filters_accepts_the_real_world_syntaxes():
    pairs = [
        ("filter[updated_at][from]", "10"),
        ("filter[updated_at][to]", "20"),
        ("filter[id][]", "1"),
        ("filter[id][]", "2"),
        ("filter[entity_id][0]", "5"),
        ("filter[type]", "a,b"),
        ("filter[is_completed]", "1"),
    ]
    f = parse_filters(pairs)
    assert f == {
        "updated_at": {"from": 10, "to": 20},
        "id": [1, 2],
        "entity_id": [5],
        "type": ["a", "b"],
        "is_completed": 1,
    }
