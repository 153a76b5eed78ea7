"""``python -m etl demo``: the command writes a raw export."""

from __future__ import annotations

import json
import subprocess
import sys

from etl.config import REPO_ROOT


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
