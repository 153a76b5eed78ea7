#!/usr/bin/env bash
# The one command that runs every test on a fresh machine:  bash scripts/test.sh [pytest args]
# Installs the locked dev requirements into .venv, makes sure Debian's chromium + chromedriver (browser
# tests) and redis-server (several-hosts tests) are there (installs them when run as root), lints
# with ruff, runs pytest headless.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --dev
if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null || ! command -v redis-server >/dev/null; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver redis-server
  else
    echo "tests need Debian's chromium, chromium-driver and redis-server: sudo apt-get install chromium chromium-driver redis-server" >&2
    exit 1
  fi
fi
.venv/bin/ruff check .
.venv/bin/ruff format --check .
# A hung browser must not eat CI's time: the whole suite gets 15 minutes.
exec timeout 900 .venv/bin/python -m pytest --headless -q -p no:cacheprovider "$@"
