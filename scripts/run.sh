#!/usr/bin/env bash
# The one command that runs the report on a fresh machine:
#   bash scripts/run.sh [--port 8050] [--host 127.0.0.1] [--data-dir DIR]
# Installs the requirements into .venv, builds the demo snapshot on first start when no amoCRM
# account is configured, and serves the report.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/python -m report "$@"
