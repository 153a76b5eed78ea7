#!/usr/bin/env bash
# Production serving on one host:  bash scripts/serve.sh [--workers 4] [--threads 8] [--port 8050] [--host 0.0.0.0]
# Installs the locked requirements, prepares the data (demo on a fresh machine; an old snapshot is
# rebuilt) and runs gunicorn (gthread workers, keep-alive 75 s; see docs/operations.md).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/python -m report serve "$@"
