#!/usr/bin/env bash
# Creates .venv (Python 3.11+) and installs the pinned requirements into it.  Idempotent.
#   scripts/setup.sh          runtime requirements (the report)
#   scripts/setup.sh --dev    + test, lint and benchmark requirements
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
req=requirements.txt
[ "${1:-}" = "--dev" ] && req=requirements-dev.txt
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r "$req"
