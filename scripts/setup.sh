#!/usr/bin/env bash
# Creates .venv (Python 3.11+) and installs the locked requirements into it.  Idempotent.
#   scripts/setup.sh          runtime (the report):                 requirements.lock
#   scripts/setup.sh --dev    + test, lint and benchmark tools:      requirements-dev.lock
# The locks pin every package, transitive ones included, with hashes (pip --require-hashes); the
# direct pins they are compiled from are requirements.txt / requirements-dev.txt (README says how
# to update them).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
lock=requirements.lock
[ "${1:-}" = "--dev" ] && lock=requirements-dev.lock
.venv/bin/python -m pip install --quiet --disable-pip-version-check --require-hashes -r "$lock"
