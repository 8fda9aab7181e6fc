# Sourced on the GPU machine (see scripts/device/README.md): the default model from /root/model, wheels from /tmp/site.
# The package is not installed there: /tmp/gm mirrors it with storage/ and integrations/ where pyproject.toml's
# package-dir puts them (gradmem_agent.storage, gradmem_agent.integrations).
rm -rf /tmp/gm && mkdir -p /tmp/gm && cp -rs "$PWD/gradmem_agent" /tmp/gm/ \
  && ln -s "$PWD/storage" /tmp/gm/gradmem_agent/storage && ln -s "$PWD/integrations" /tmp/gm/gradmem_agent/integrations
export PYTHONPATH=/tmp/site:/tmp/gm:$PWD PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false
export GRADMEM_DEFAULT_GGUF=/root/model/SmolLM2-135M-Instruct.Q4_1.gguf GRADMEM_CACHE_DIR=/root/cache
