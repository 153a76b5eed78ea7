"""The export CLI, exactly as METRICS.md's export contract says, run as a user would run it."""

from __future__ import annotations

import csv
import importlib.util
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from metric_snapshots import MARCH, TASKS, TOUCH_DEALS, TOUCH_USERS, TOUCHES

from report.export import main
from report.metrics.registry import all_metrics

REPO = Path(__file__).resolve().parents[3]
GROUP_COLUMNS = {"city", "manager", "channel", "bucket", "package"}


def export(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "report", "export", *args], cwd=REPO, capture_output=True, text=True, timeout=120
    )


def test_json_export_with_group_columns_first(march):
    out = export(
        "funnel.cohort", "--snapshot", str(march.path), "--from", "2026-03-01", "--to", "2026-03-31", "--by", "city"
    )
    assert out.returncode == 0, out.stderr
    records = json.loads(out.stdout)
    assert list(records[0]) == ["city", "stage", "reached", "dropped", "conv_prev", "conv_lead", "current"]
    moscow_lead = next(r for r in records if r["city"] == "Москва" and r["stage"] == "lead")
    assert moscow_lead["reached"] == 5  # #1 #2 #3 #4 #9
    contract = next(r for r in records if r["city"] == "Москва" and r["stage"] == "contract")
    assert contract["dropped"] is None  # nulls as null


def test_csv_export_from_a_snapshots_folder_with_current(march):
    """The snapshots folder with CURRENT works like the snapshot itself; buckets are YYYY-MM-DD."""
    (march.path.parent / "CURRENT").write_text(march.id + "\n")
    out = export(
        "deals.created", "--snapshot", str(march.path.parent), "--from", "2026-02-01", "--to", "2026-04-30",
        "--by", "bucket", "--grain", "month", "--format", "csv", "--manager", "Борис Иванов",
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    rows = list(csv.DictReader(io.StringIO(out.stdout)))
    # Борис: #6 (February), #2 #4 #9 (March); #5 is deleted
    assert rows == [{"bucket": "2026-02-01", "deals": "1"}, {"bucket": "2026-03-01", "deals": "3"}]


def test_csv_nulls_are_empty(march):
    out = export("consultations.attendance", "--snapshot", str(march.path), "--from", "2026-03-01", "--to", "2026-03-31",
                 "--city", "Калининград", "--format", "csv")  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == ["attended,no_show,show_rate", "0,0,"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["no.such.metric"], "unknown metric 'no.such.metric'"),
        (["funnel.cohort", "--from", "2026-13-01"], "--from '2026-13-01': not a date"),
        (["funnel.cohort", "--to", "31.03.2026"], "--to '31.03.2026': not a date"),
        (["funnel.cohort", "--city", "Атлантида"], "--city 'Атлантида': unknown city"),
        (["funnel.cohort", "--manager", "Никто Никтович"], "--manager 'Никто Никтович': no user"),
        (["funnel.cohort", "--from", "2026-04-01"], "is after --to"),
        (["deals.status_as_of", "--by", "bucket"], "cannot be broken down"),
    ],
)
def test_bad_input_exits_2_with_a_clear_message(march, args, message):
    metric, rest = args[0], args[1:]
    base = {"--from": "2026-03-01", "--to": "2026-03-31"}
    for flag in list(base):
        if flag in rest:
            base.pop(flag)
    cli = [metric, "--snapshot", str(march.path), *[x for kv in base.items() for x in kv], *rest]
    out = export(*cli)
    assert out.returncode == 2
    assert message in out.stderr
    assert "Traceback" not in out.stderr and out.stdout == ""


def test_missing_snapshot_and_unknown_choice_exit_2(tmp_path):
    out = export("funnel.cohort", "--snapshot", str(tmp_path), "--from", "2026-03-01", "--to", "2026-03-31")
    assert out.returncode == 2 and "neither a snapshot" in out.stderr
    out = export(
        "funnel.cohort", "--snapshot", str(tmp_path), "--from", "2026-03-01", "--to", "2026-03-31", "--grain", "decade"
    )
    assert out.returncode == 2 and "invalid choice" in out.stderr


def test_every_metric_exports_exactly_its_contract_columns(make_snapshot, capsys):
    """In-process for speed: each metric, without and with each of its breakdowns, on both accounts."""
    both = make_snapshot(MARCH + TOUCH_DEALS, TOUCHES, TASKS, TOUCH_USERS)
    for metric in all_metrics().values():
        for by in [(), *[(b,) for b in metric.breakdowns]]:
            argv = [metric.id, "--snapshot", str(both.path), "--from", "2026-03-01", "--to", "2026-03-31"]
            argv += [x for b in by for x in ("--by", b)]
            assert main(argv) == 0, (metric.id, by, capsys.readouterr().err)
            records = json.loads(capsys.readouterr().out)
            assert records, (metric.id, by)
            expected = [*by, *metric.columns]
            if metric.id == "managers.leaderboard":
                expected = ["manager", *metric.columns]  # always per manager
            if metric.id == "office.load":
                expected = ["city", *metric.columns]  # always per city
            assert list(records[0]) == expected, (metric.id, by)


def _tiny_export():
    spec = importlib.util.spec_from_file_location("tiny_export", REPO / "tests" / "etl" / "tiny_export.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_raw_export_is_built_first(tmp_path):
    raw = _tiny_export().write(tmp_path / "raw")
    out = export("funnel.flow", "--raw", str(raw), "--from", "2026-03-01", "--to", "2026-03-31")
    assert out.returncode == 0, out.stderr
    records = json.loads(out.stdout)
    assert [r["stage"] for r in records][:5] == ["lead", "phone", "booked", "attended", "contract"]
    assert records[0]["entries"] > 0


def test_bad_raw_export_exits_2(tmp_path):
    (tmp_path / "raw").mkdir()
    out = export("funnel.flow", "--raw", str(tmp_path / "raw"), "--from", "2026-03-01", "--to", "2026-03-31")
    assert out.returncode == 2 and "cannot build a snapshot" in out.stderr and "Traceback" not in out.stderr
    out = export("funnel.flow", "--raw", str(tmp_path / "nope"), "--from", "2026-03-01", "--to", "2026-03-31")
    assert out.returncode == 2 and "no such folder" in out.stderr


def test_deals_list_export_lists_the_deals_behind_a_number(march):
    out = export("deals.list", "--metric", "bookings.count", "--group", "manager=Борис Иванов",
                 "--snapshot", str(march.path), "--from", "2026-03-01", "--to", "2026-03-31", "--format", "csv")  # fmt: skip
    assert out.returncode == 0, out.stderr
    rows = list(csv.DictReader(io.StringIO(out.stdout)))
    # #2 booked 03-03 11:00 and again 03-10 12:00 Moscow: listed twice, in the order counted
    assert [(r["deal_id"], r["counted_at"]) for r in rows] == [
        ("2", "2026-03-03T08:00:00Z"),
        ("2", "2026-03-10T09:00:00Z"),
    ]
    assert rows[0]["manager"] == "Борис Иванов" and rows[0]["stage"] == "lost"
    assert rows[0]["url"] == "https://test.amocrm.ru/leads/detail/2"


def test_deals_list_export_needs_its_metric_and_no_by(march):
    base = ["--snapshot", str(march.path), "--from", "2026-03-01", "--to", "2026-03-31"]
    out = export("deals.list", *base)
    assert out.returncode == 2 and "needs --metric" in out.stderr
    out = export("deals.list", "--metric", "funnel.flow", "--stage", "lead", "--by", "city", *base)
    assert out.returncode == 2 and "not --by" in out.stderr
    out = export("deals.list", "--metric", "funnel.flow", *base)
    assert out.returncode == 2 and "needs a stage" in out.stderr and "Traceback" not in out.stderr
    out = export("deals.created", "--stage", "lead", *base)
    assert out.returncode == 2 and "for deals.list only" in out.stderr


def test_compare_adds_prev_columns(march):
    out = export("deals.created", "--snapshot", str(march.path), "--from", "2026-03-01", "--to", "2026-03-31",
                 "--compare", "previous", "--by", "city")  # fmt: skip
    assert out.returncode == 0, out.stderr
    # March: Москва #1 #2 #3 #4 #9, Екатеринбург #10, Новосибирск #7; February: Москва #6
    assert json.loads(out.stdout) == [
        {"city": "Екатеринбург", "deals": 1, "deals_prev": None},
        {"city": "Москва", "deals": 5, "deals_prev": 1},
        {"city": "Новосибирск", "deals": 1, "deals_prev": None},
    ]


def test_hours_business_exports_working_time(make_snapshot):
    """The business-hours account (test_metric_business_hours.py): creation → contract per city is
    2 h, 1.5 h, 2 h, 2 h of working time against 12, 23.5, 86 and 62 calendar hours."""
    from metric_snapshots import BUSINESS_DEALS, BUSINESS_SETTINGS

    snap = make_snapshot(BUSINESS_DEALS, settings=BUSINESS_SETTINGS)
    cli = ["time.creation_to_contract", "--snapshot", str(snap.path), "--from", "2026-03-01", "--to", "2026-05-31"]
    business = export(*cli, "--by", "city", "--hours", "business")
    assert business.returncode == 0, business.stderr
    hours = {r["city"]: r["mean_s"] / 3600 for r in json.loads(business.stdout)}
    assert hours == {"Екатеринбург": 2, "Калининград": 1.5, "Москва": 2, "Новосибирск": 2}
    calendar = json.loads(export(*cli, "--by", "city", "--hours", "calendar").stdout)
    assert [r["mean_s"] / 3600 for r in calendar] == [12, 23.5, 86, 62]


def test_every_duration_metric_exports_in_business_hours(make_snapshot, capsys):
    """In-process: each metric declared hours=True exports its contract columns with --hours
    business; a metric that counts no durations refuses the flag."""
    from metric_snapshots import BUSINESS_DEALS, BUSINESS_SETTINGS, BUSINESS_TOUCHES

    snap = make_snapshot(BUSINESS_DEALS, BUSINESS_TOUCHES, settings=BUSINESS_SETTINGS)
    period = ["--snapshot", str(snap.path), "--from", "2026-03-01", "--to", "2026-05-31", "--hours", "business"]
    durations = [m for m in all_metrics().values() if m.hours]
    assert {"time.creation_to_contract", "touches.interval", "touches.to_next_stage"} <= {m.id for m in durations}
    for metric in durations:
        assert main([metric.id, *period]) == 0, metric.id
        columns = list(json.loads(capsys.readouterr().out)[0])
        assert columns[-len(metric.columns) :] == list(metric.columns), metric.id  # the leaderboard: manager first
    assert main(["funnel.cohort", *period]) == 2
    assert "funnel.cohort counts no durations" in capsys.readouterr().err
