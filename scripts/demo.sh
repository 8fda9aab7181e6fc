#!/usr/bin/env bash
# The main job: install, then a scripted long conversation on the default model, compressed into memory.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
.venv/bin/gradmem demo --db "sqlite:///$PWD/.demo.db" "$@"
