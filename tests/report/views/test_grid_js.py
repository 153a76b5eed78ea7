"""The grid's cells are written in the browser (assets/dashAgGridFunctions.js): each kind of
number must read exactly as report/formatting.py writes it everywhere else (KPI cards, charts).

The JavaScript runs under node on the same values; ties (x.5 at the shown decimal), negatives,
zero, missing values and both languages included."""

from __future__ import annotations

import json
import subprocess

from etl.config import REPO_ROOT
from report.formatting import fmt_duration, fmt_money, fmt_number, fmt_percent

SCRIPT = REPO_ROOT / "assets" / "dashAgGridFunctions.js"

NUMBERS = [0, 1, 8, 2.0, 999, 1000, 1234.5, 1234567, -1500.25, 0.05, 0.25, 0.35, 2.5, 3.5, 12.25, 1e9 + 0.5,
           -0.04, 0.333333, 45.678, 100000.05, 7.75, 1 / 3, 2 / 3, 123456.789]  # fmt: skip
RATES = [0, 1, 0.25, 0.4532, 0.0005, 0.00125, 0.12345, 1 / 3, 0.999, 0.0015, 0.0025]
MONEY = [0, 0.5, 1.5, 2.5, 125000, 125000.49, 99999.5, 1234567.89, 333.3333]
SECONDS = [0, 0.4, 0.5, 1.5, 59, 60, 90, 3599.6, 3600, 5400, 86400 + 1800, 86400 + 3 * 3600 + 1800, 2 * 86400 + 3 * 3600,
           86400 * 1.99, 47.5 * 60, 7 * 86400 + 12 * 3600, 1e6, 123456.7]  # fmt: skip
MISSING = [None, float("nan")]


def _js(cases: list[tuple[object, str, str]]) -> list[str]:
    program = (
        f"const f = require({json.dumps(str(SCRIPT))});"
        "const cases = JSON.parse(require('fs').readFileSync(0, 'utf8'));"
        "process.stdout.write(JSON.stringify(cases.map(([v, k, l]) => f.format(v === 'NaN' ? NaN : v, k, l))));"
    )
    data = json.dumps([["NaN" if isinstance(v, float) and v != v else v, k, lang] for v, k, lang in cases])
    out = subprocess.run(["node", "-e", program], input=data, capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def test_the_browser_writes_every_kind_of_number_as_python_does():
    python = {"number": fmt_number, "percent": fmt_percent, "money": fmt_money, "duration": fmt_duration}
    values = {"number": NUMBERS, "percent": RATES, "money": MONEY, "duration": SECONDS}
    cases = [(v, kind, lang) for kind, vs in values.items() for v in [*vs, *MISSING] for lang in ("ru", "en")]
    expected = [python[kind](v, lang) for v, kind, lang in cases]
    assert _js(cases) == expected


def test_the_formats_people_read():
    got = _js([(1234.5, "number", "ru"), (0.25, "percent", "ru"), (183600, "duration", "ru"), (125000, "money", "en")])
    assert got == ["1 234,5", "25,0 %", "2 д 3 ч", "125,000 ₽"]
