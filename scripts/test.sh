#!/usr/bin/env bash
# Install, lint, run the tests. PostgreSQL tests run when GRADMEM_TEST_POSTGRES_URL is set (.ci/run sets it).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
.venv/bin/ruff check .
.venv/bin/python -m pytest -q "$@"
