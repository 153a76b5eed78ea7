"""The synthetic amoCRM account: deterministic, API-shaped, plausible, with the quirks of real accounts.

Plausibility bounds are the DATA.md targets widened by about 5 points: with ~2 200 deals old enough
to have run their course, a binomial share has a standard error of 1–2.5 points, so the bounds hold
for other seeds too (checked on seeds 1–11), and they fail if a behaviour is switched off or broken.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from etl.config import REPO_ROOT, STAGE_POSITION, load_config
from etl.simulated.synth import RAW_FILES, SynthParams, generate_account, write_raw_export

END = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
DAY = 86_400


@pytest.fixture(scope="module")
def account():
    return generate_account(seed=7, deals_per_year=3000, years=1.0, end=END, horizon_days=30)


@pytest.fixture(scope="module")
def view(account):
    return account.as_of(END)


@pytest.fixture(scope="module")
def config():
    return load_config()


def status_stage(view, config) -> dict[tuple[int, int], str]:
    """(pipeline_id, status_id) → stage, through the real config.yaml (as `etl build` maps them)."""
    out = {}
    for p in view["pipelines"]:
        for s in p["_embedded"]["statuses"]:
            out[(p["id"], s["id"])] = config.stage_of(s["id"], s["name"])
    return out


def histories(view) -> dict[int, list[tuple[int, tuple[int, int]]]]:
    """lead id → [(time, (pipeline, status)) ...]: creation status, then each status change."""
    h: dict[int, list] = defaultdict(list)
    for e in view["events"]:
        if e["type"] in ("lead_added", "lead_status_changed"):
            s = e["value_after"][0]["lead_status"]
            h[e["entity_id"]].append((e["created_at"], (s["pipeline_id"], s["id"])))
    return h


def city_of(lead) -> str | None:
    for f in lead["custom_fields_values"] or []:
        if f["field_name"] == "Город":
            return f["values"][0]["value"]
    return None


def old_leads(view):
    """Deals created at least 60 days before the view: their funnel has mostly run its course."""
    cutoff = int(END.timestamp()) - 60 * DAY
    return [lead for lead in view["leads"] if lead["created_at"] <= cutoff]


# ------------------------------------------------------------------ shape of the account
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


def test_lead_shape_follows_amocrm(view):
    lead = next(x for x in view["leads"] if x["status_id"] == 142)
    assert set(lead) == {
        "id", "name", "price", "responsible_user_id", "group_id", "status_id", "pipeline_id", "loss_reason_id",
        "created_by", "updated_by", "created_at", "updated_at", "closed_at", "closest_task_at", "is_deleted",
        "custom_fields_values", "score", "account_id", "labor_cost", "_links", "_embedded",
    }  # fmt: skip
    assert lead["_links"]["self"]["href"] == f"https://prizyva-net.amocrm.ru/api/v4/leads/{lead['id']}"
    assert lead["_embedded"]["contacts"][0]["is_main"] is True
    assert lead["closed_at"] is not None and lead["price"] > 0
    # a won deal carries its package; its price is the package's list price less at most 10 %
    prices = dict(SynthParams().packages)
    pkg = next(f for f in lead["custom_fields_values"] if f["field_name"] == "Пакет")["values"][0]["value"]
    assert 0.9 * prices[pkg] - 500 <= lead["price"] <= prices[pkg]
    # nothing filled → null, never []
    assert all(x["custom_fields_values"] is None or x["custom_fields_values"] for x in view["leads"])
    ev = view["events"][0]
    assert isinstance(ev["id"], str) and ev["entity_type"] in ("lead", "contact", "task")


# ------------------------------------------------------------------ determinism
def test_same_seed_gives_identical_bytes_and_another_seed_differs(tmp_path):
    def export(seed: int, name: str) -> Path:
        acc = generate_account(seed=seed, deals_per_year=2000, years=0.5, end=END)
        write_raw_export(tmp_path / name, acc.as_of(END), pulled_at=END)
        return tmp_path / name

    a, b, c = export(11, "a"), export(11, "b"), export(12, "c")
    # the streaming writer (used by the demo command) writes the very same bytes, whatever the chunking
    generate_account(seed=11, deals_per_year=2000, years=0.5, end=END).export(tmp_path / "s", END, chunk=333)
    files = ["account.json", "export.json"] + [f"{n}.jsonl" for n in RAW_FILES]
    for f in files:
        assert (a / f).read_bytes() == (b / f).read_bytes(), f
        assert (a / f).read_bytes() == (tmp_path / "s" / f).read_bytes(), f
    assert (a / "leads.jsonl").read_bytes() != (c / "leads.jsonl").read_bytes()
    assert (a / "events.jsonl").read_bytes() != (c / "events.jsonl").read_bytes()


# ------------------------------------------------------------------ plausibility
def test_funnel_conversions_are_within_the_targets(view, config):
    stage = status_stage(view, config)
    hist = histories(view)
    reached = Counter()
    for lead in old_leads(view):
        top = max(STAGE_POSITION[stage[s]] or 0 for _, s in hist[lead["id"]])
        for pos in range(1, top + 1):
            reached[pos] += 1
    conv = {k: reached[k + 1] / reached[k] for k in range(1, 5)}
    assert reached[1] > 2000
    assert 0.55 <= conv[1] <= 0.80, conv  # lead → phone, target 60–75 %
    assert 0.35 <= conv[2] <= 0.60, conv  # phone → booked, target 40–55 %
    assert 0.55 <= conv[3] <= 0.80, conv  # booked → attended, target 60–75 % (re-bookings included)
    assert 0.25 <= conv[4] <= 0.50, conv  # attended → contract, target 30–45 %


def test_no_shows_rebook_and_contracts_close_won_or_refunded(view, config):
    stage = status_stage(view, config)
    hist = histories(view)
    no_show = rebooked = won = refunded = 0
    for lead in old_leads(view):
        stages = [stage[s] for _, s in hist[lead["id"]]]
        if "no_show" in stages:
            no_show += 1
            rebooked += "booked" in stages[stages.index("no_show") :]
        if "won" in stages:
            won += 1
            refunded += stages[-1] == "lost"
    assert 0.2 <= rebooked / no_show <= 0.47  # a third re-book
    assert won > 50 and 1 <= refunded <= 0.08 * won  # ~2 % refunded (at least one, forced)


def test_contact_centre_share_city_sizes_and_seasonality(view):
    leads = view["leads"]
    cc = next(p["id"] for p in view["pipelines"] if p["name"] == "Контакт-центр")
    old = old_leads(view)
    assert 0.15 <= sum(x["pipeline_id"] == cc for x in old) / len(old) <= 0.35  # about a quarter
    by_city = Counter(city_of(x) for x in leads if city_of(x))
    assert [c for c, _ in by_city.most_common(2)] == ["Москва", "Санкт-Петербург"]
    assert len(by_city) >= 30
    # month factors 1.45 (May), 1.5 (Nov) vs 0.6 (Aug), 0.55 (Jan): > 2× expected, 1.4× asserted
    # (about 200–300 deals a month, so Poisson noise is below 8 %)
    msk = ZoneInfo("Europe/Moscow")
    days = Counter()
    for x in leads:
        d = datetime.fromtimestamp(x["created_at"], msk)
        days[d.month] += 1
    per_day = {m: days[m] / n for m, n in ((1, 31), (5, 31), (8, 31), (11, 29))}
    assert min(per_day[5], per_day[11]) > 1.4 * max(per_day[1], per_day[8]), per_day


def test_leads_arrive_in_the_daytime_and_rarely_on_sundays(view, config):
    night = sunday = total = 0
    for x in view["leads"]:
        city = city_of(x)
        if city is None:
            continue
        local = datetime.fromtimestamp(x["created_at"], ZoneInfo(config.cities[city]))
        total += 1
        night += local.hour < 6
        sunday += local.weekday() == 6
    assert night / total < 0.05  # 6 of 24 hours, but only ~2 % of leads
    assert sunday / total < 0.10  # uniform would be 14 %


def test_calls_sms_and_answer_rates(view):
    notes = view["lead_notes"] + view["contact_notes"]
    n = len(view["leads"]) + len(view["deleted_leads"])
    calls = [x for x in notes if x["note_type"] in ("call_in", "call_out")]
    sms = [x for x in notes if x["note_type"] in ("sms_in", "sms_out")]
    assert 3 <= len(calls) / n <= 10
    assert 1 <= len(sms) / n <= 4
    out = [int(x["params"]["duration"]) for x in calls if x["note_type"] == "call_out"]
    assert 0.4 <= sum(d == 0 for d in out) / len(out) <= 0.62  # half unanswered
    answered = [int(x["params"]["duration"]) for x in calls if int(x["params"]["duration"]) > 0]
    assert min(answered) >= 60 and max(answered) <= 900  # 1–15 minutes
    on_contact = sum(x["note_type"].startswith("call") for x in view["contact_notes"])
    assert 0.3 <= on_contact / len(calls) <= 0.5  # ~40 % logged on the contact


def test_tasks_per_deal_deadlines_in_working_hours_most_completed(view, config):
    tasks = view["tasks"]
    per_deal = Counter(t["entity_id"] for t in tasks)
    live = {x["id"]: x for x in view["leads"]}
    counts = [per_deal[i] for i in live]
    assert 2 <= statistics.mean(counts) <= 6
    assert max(counts) <= 6
    for t in tasks:
        lead = live.get(t["entity_id"])
        if lead is None or city_of(lead) is None:
            continue
        local = datetime.fromtimestamp(t["complete_till"], ZoneInfo(config.cities[city_of(lead)]))
        assert 9 * 60 <= local.hour * 60 + local.minute <= 21 * 60, (t["id"], local)
    done = [t for t in tasks if t["is_completed"]]
    assert 0.8 <= len(done) / len(tasks) <= 0.97
    now = int(END.timestamp())
    overdue = [t for t in tasks if not t["is_completed"] and t["complete_till"] < now]
    late = [t for t in done if t["updated_at"] > t["complete_till"]]
    assert overdue and late
    completed_events = {e["entity_id"]: e["created_at"] for e in view["events"] if e["type"] == "task_completed"}
    assert all(completed_events[t["id"]] == t["updated_at"] for t in done)


def test_the_slow_manager_calls_back_later_and_books_fewer(account, view):
    """Office deals created straight into the office: time from creation to the first outgoing call."""
    office = next(p["id"] for p in view["pipelines"] if p["name"] == "Офис")
    hist = histories(view)
    contact_lead = {c["id"]: [x["id"] for x in c["_embedded"]["leads"]] for c in view["contacts"]}
    first_call: dict[int, int] = {}
    for note in view["lead_notes"] + view["contact_notes"]:
        if note["note_type"] != "call_out":
            continue
        ids = [note["entity_id"]] if note["_links"]["self"]["href"].split("/")[-4] == "leads" else []
        ids = ids or contact_lead.get(note["entity_id"], [])
        for lid in ids:
            first_call[lid] = min(first_call.get(lid, 1 << 62), note["created_at"])
    slow = account.meta["slow_manager_id"]
    booked_ids = {
        s["id"] for p in view["pipelines"] for s in p["_embedded"]["statuses"] if s["name"].startswith("Записан")
    }
    delays: dict[bool, list[int]] = {True: [], False: []}
    deals = Counter()
    booked = Counter()
    for lead in old_leads(view):
        if lead["pipeline_id"] != office or hist[lead["id"]][0][1][0] != office or city_of(lead) != "Москва":
            continue
        is_slow = lead["responsible_user_id"] == slow
        deals[is_slow] += 1
        booked[is_slow] += any(s in booked_ids for _, (_, s) in hist[lead["id"]])
        if lead["id"] in first_call:
            delays[is_slow].append(first_call[lead["id"]] - lead["created_at"])
    assert len(delays[True]) >= 20
    assert statistics.median(delays[True]) > 2 * statistics.median(delays[False])
    # ... and books markedly fewer: 0.6 x the odds at each step, 12 % vs 36 % on a 30k-deal account;
    # here he has only ~50 such deals (Poisson noise ~40 %), hence the loose factor
    assert booked[True] / deals[True] < 0.75 * booked[False] / deals[False], (booked, deals)


# ------------------------------------------------------------------ consistency over time
def test_status_history_is_a_chain_and_ends_in_the_current_status(account):
    for t in (END - timedelta(days=90), END, END + timedelta(days=20)):
        v = account.as_of(t)
        current = {x["id"]: (x["pipeline_id"], x["status_id"]) for x in v["leads"]}
        last: dict[int, tuple[int, int]] = {}
        for e in v["events"]:
            if e["entity_type"] != "lead" or e["entity_id"] not in current:
                continue
            if e["type"] == "lead_added":
                s = e["value_after"][0]["lead_status"]
                last[e["entity_id"]] = (s["pipeline_id"], s["id"])
            elif e["type"] == "lead_status_changed":
                b, a = e["value_before"][0]["lead_status"], e["value_after"][0]["lead_status"]
                assert last[e["entity_id"]] == (b["pipeline_id"], b["id"]), e
                last[e["entity_id"]] = (a["pipeline_id"], a["id"])
        assert last == current


def test_as_of_only_grows_and_updated_at_never_goes_back(account):
    times = [END - timedelta(days=30), END, END + timedelta(days=1), END + timedelta(days=25)]
    views = [account.as_of(t) for t in times]

    def ids(v, key):
        return {x["id"] for x in v[key]}

    for v1, v2, t1, t2 in zip(views, views[1:], times, times[1:], strict=False):
        for key in ("events", "lead_notes", "contact_notes", "tasks", "contacts"):
            assert ids(v1, key) <= ids(v2, key), key
            assert ids(v1, key) < ids(v2, key) or key == "contact_notes" and t2 - t1 < timedelta(days=2), key
        assert ids(v1, "leads") | ids(v1, "deleted_leads") <= ids(v2, "leads") | ids(v2, "deleted_leads")
        upd1 = {x["id"]: x["updated_at"] for x in v1["leads"] + v1["deleted_leads"]}
        upd2 = {x["id"]: x["updated_at"] for x in v2["leads"] + v2["deleted_leads"]}
        assert all(upd2[i] >= u for i, u in upd1.items())
        assert any(upd2[i] > u for i, u in upd1.items())  # the business goes on
        ts2 = int(t2.timestamp())
        assert all(x["created_at"] <= ts2 for x in v2["events"] + v2["tasks"] + v2["lead_notes"])
        assert all(x["updated_at"] <= ts2 for x in v2["leads"] + v2["tasks"] + v2["contacts"])
    # the horizon: deals keep being created after the end
    assert max(x["created_at"] for x in views[-1]["leads"]) > int(END.timestamp()) + 20 * DAY


def test_same_stage_transfer_from_the_contact_centre_to_the_office(view):
    pipes = {p["name"]: p for p in view["pipelines"]}

    def booked(name):
        st = pipes[name]["_embedded"]["statuses"]
        return next(s["id"] for s in st if s["name"] == "Записан на консультацию")

    cc, office = pipes["Контакт-центр"]["id"], pipes["Офис"]["id"]
    transfers = [
        e
        for e in view["events"]
        if e["type"] == "lead_status_changed"
        and e["value_before"][0]["lead_status"] == {"id": booked("Контакт-центр"), "pipeline_id": cc}
        and e["value_after"][0]["lead_status"] == {"id": booked("Офис"), "pipeline_id": office}
    ]
    handovers = {(e["entity_id"], e["created_at"]) for e in view["events"] if e["type"] == "entity_responsible_changed"}
    assert len(transfers) > 50
    assert all((e["entity_id"], e["created_at"]) in handovers for e in transfers)


# ------------------------------------------------------------------ quirks
def test_quirks_of_real_accounts_are_present(account, view):
    leads = {x["id"]: x for x in view["leads"]}
    # deals without city
    assert 0.01 <= sum(city_of(x) is None for x in leads.values()) / len(leads) <= 0.06
    # a returning client: a contact with two deals, the second created after the first closed
    returning = [c for c in view["contacts"] if len(c["_embedded"]["leads"]) >= 2]
    assert 0.02 <= len(returning) / len(view["contacts"]) <= 0.08
    for c in returning:
        first, second = (leads[x["id"]] for x in c["_embedded"]["leads"][:2])
        assert first["closed_at"] is not None and first["closed_at"] < second["created_at"]
    # deleted deals: in the trash with most fields null, and a lead_deleted event each
    deleted = view["deleted_leads"]
    assert deleted and all(x["is_deleted"] is True and x["status_id"] is None and x["price"] is None for x in deleted)
    del_events = {e["entity_id"] for e in view["events"] if e["type"] == "lead_deleted"}
    assert {x["id"] for x in deleted} <= del_events
    # a restored one: deleted, restored, alive
    restored = {e["entity_id"] for e in view["events"] if e["type"] == "lead_restored"}
    assert restored and restored <= set(leads) and restored <= del_events
    # status changes for leads that do not exist
    known = set(leads) | {x["id"] for x in deleted}
    ghosts = [e for e in view["events"] if e["type"] == "lead_status_changed" and e["entity_id"] not in known]
    assert len(ghosts) >= 3
    # a duration as a string, tasks with "result": []
    notes = view["lead_notes"] + view["contact_notes"]
    assert any(isinstance(x["params"].get("duration"), str) for x in notes)
    assert any(t["result"] == [] for t in view["tasks"] if t["is_completed"])
    # created by a robot straight into "booked"
    booked_ids = {
        s["id"] for p in view["pipelines"] for s in p["_embedded"]["statuses"] if s["name"].startswith("Записан")
    }
    robots = [
        e
        for e in view["events"]
        if e["type"] == "lead_added" and e["created_by"] == 0 and e["value_after"][0]["lead_status"]["id"] in booked_ids
    ]
    assert robots and all(leads[e["entity_id"]]["created_by"] == 0 for e in robots if e["entity_id"] in leads)
    # call/SMS events point to their note
    note_ids = {x["id"] for x in notes}
    call_events = [e for e in view["events"] if e["type"] in ("incoming_call", "outgoing_call", "outgoing_sms")]
    assert call_events and all(e["value_after"][0]["note"]["id"] in note_ids for e in call_events)


# ------------------------------------------------------------------ raw export
def test_write_raw_export_writes_every_file_with_right_cursors(tmp_path, account):
    view = account.as_of(END)
    out = tmp_path / "raw"
    write_raw_export(out, view, pulled_at=END, extra={"demo": {"seed": 7}})
    expected = {"account.json", "export.json"} | {f"{n}.jsonl" for n in RAW_FILES}
    assert {p.name for p in out.iterdir()} == expected
    assert [p.name for p in tmp_path.iterdir()] == ["raw"]  # no temp folder left behind
    meta = json.loads((out / "export.json").read_text())
    assert meta["source"] == "emulator" and meta["pulled_at"] == "2026-11-30T12:00:00Z" and meta["demo"] == {"seed": 7}
    assert (
        json.loads((out / "account.json").read_text())["_embedded"]["datetime_settings"]["timezone"] == "Europe/Moscow"
    )
    for name in RAW_FILES:
        lines = (out / f"{name}.jsonl").read_text(encoding="utf-8").splitlines()
        records = [json.loads(line) for line in lines]
        # compact UTF-8 JSON, one object per line, exactly what json.dumps writes
        sample = zip(records[::97], lines[::97], strict=True)
        assert all(json.dumps(r, ensure_ascii=False, separators=(",", ":")) == x for r, x in sample)
        info = meta["collections"][name]
        assert info["records"] == len(records), name
        key = "created_at" if name == "events" else "updated_at"
        stamps = [r[key] for r in records if key in r]
        assert info["cursor"] == (max(stamps) if stamps else None), name
    leads = [json.loads(x) for x in (out / "leads.jsonl").read_text().splitlines()]
    assert len(leads) == len(view["leads"]) + len(view["deleted_leads"])
    assert sum(x["is_deleted"] for x in leads) == len(view["deleted_leads"]) > 0
    # rewriting replaces the folder as a whole
    write_raw_export(out, account.as_of(END - timedelta(days=10)), pulled_at=END - timedelta(days=10))
    meta2 = json.loads((out / "export.json").read_text())
    assert meta2["collections"]["leads"]["records"] < meta["collections"]["leads"]["records"]
    assert "demo" not in meta2


def test_demo_command_writes_an_export(tmp_path):
    out = tmp_path / "demo"
    cmd = [sys.executable, "-m", "etl", "demo", "--out", str(out), "--deals-per-year", "500", "--years", "0.2"]
    run = subprocess.run([*cmd, "--seed", "3"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert "leads" in run.stderr and "done" in run.stderr  # progress on stderr
    meta = json.loads((out / "export.json").read_text())
    assert meta["demo"]["seed"] == 3 and meta["demo"]["deals_per_year"] == 500 and meta["demo"]["years"] == 0.2
    assert meta["collections"]["leads"]["records"] > 50
    bad = subprocess.run([*cmd, "--end", "30.11.2026"], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "YYYY-MM-DD" in bad.stderr and "Traceback" not in bad.stderr
    # a folder that is not a raw export is never replaced
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "notes.txt").write_text("keep me")
    cmd[cmd.index(str(out))] = str(precious)
    run = subprocess.run(cmd, cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
    assert run.returncode == 1 and "not a raw export" in run.stderr and "Traceback" not in run.stderr
    assert [p.name for p in precious.iterdir()] == ["notes.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo", "precious"]  # no temp folder left
