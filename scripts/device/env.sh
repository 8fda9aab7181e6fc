# Sourced on the GPU machine (see scripts/device/README.md): the default model from /root/model, wheels from /tmp/site.
# The package is not installed there, and `python -c`/`-m` put the working tree first on sys.path: link storage/
# and integrations/ into it where pyproject.toml's package-dir puts them (gradmem_agent.storage, .integrations).
ln -sfn ../storage gradmem_agent/storage && ln -sfn ../integrations gradmem_agent/integrations
export PYTHONPATH=/tmp/site:$PWD PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false
export GRADMEM_DEFAULT_GGUF=/root/model/SmolLM2-135M-Instruct.Q4_1.gguf GRADMEM_CACHE_DIR=/root/cache
