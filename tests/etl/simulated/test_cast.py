"""The cast: pipelines and statuses as the default account, the custom fields, the team."""

from __future__ import annotations

from tests.etl.simulated.synth_cases import status_stage


def test_pipelines_statuses_and_fields_match_the_default_account(view, config):
    pipes = {p["name"]: p for p in view["pipelines"]}
    assert list(pipes) == ["Контакт-центр", "Офис"]
    names = {k: [s["name"] for s in p["_embedded"]["statuses"]] for k, p in pipes.items()}
    expected = [
        "Неразобранное",
        "Новая заявка",
        "Не отвечает",
        "Номер получен",
        "Не записался на консультацию",
        "Записан на консультацию",
        "Не пришел",
        "Пришел на консультацию",
        "Заключен договор",
        "Успешно реализовано",
        "Закрыто и не реализовано",
    ]
    assert names["Контакт-центр"] == expected
    assert names["Офис"] == [n.replace("Не пришел", "Не пришёл") for n in expected]  # the ё quirk
    for p in pipes.values():
        st = p["_embedded"]["statuses"]
        assert [s["type"] for s in st] == [1] + [0] * 10
        assert [s["id"] for s in st[-2:]] == [142, 143]
    other_ids = [s["id"] for p in pipes.values() for s in p["_embedded"]["statuses"] if s["id"] not in (142, 143)]
    assert len(other_ids) == len(set(other_ids)) == 18
    # every status maps to a stage through the shipped config (ё/е and case ignored)
    assert "other" not in status_stage(view, config).values()
    fields = {f["name"]: f for f in view["lead_fields"]}
    assert [e["value"] for e in fields["Город"]["enums"]] != []
    assert {e["value"] for e in fields["Город"]["enums"]} == set(config.cities)
    assert len(fields["Город"]["enums"]) == 33
    assert len(fields["Пакет"]["enums"]) == 3


def test_team_admin_contact_centre_and_office_managers(view):
    users = view["users"]
    names = [u["name"] for u in users]
    assert len(names) == len(set(names))  # reports show managers by name
    assert sum(u["rights"]["is_admin"] for u in users) == 1
    assert sum(n.endswith("(КЦ)") for n in names) == 10
    # offices: Moscow 6, Saint Petersburg 4, six big cities 2, the other 25 cities 1
    assert len(users) == 1 + 10 + 6 + 4 + 6 * 2 + 25
