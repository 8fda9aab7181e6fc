# Sourced on the GPU machine (see scripts/device/README.md): the default model from /root/model, wheels from /tmp/site.
# The package is not installed there: /tmp/gm holds a copy with storage/ and integrations/ where pyproject.toml's
# package-dir puts them (gradmem_agent.storage, gradmem_agent.integrations).
rm -rf /tmp/gm && mkdir -p /tmp/gm && cp -r "$PWD/gradmem_agent" /tmp/gm/ \
  && cp -r "$PWD/storage" /tmp/gm/gradmem_agent/storage && cp -r "$PWD/integrations" /tmp/gm/gradmem_agent/integrations \
  || echo "env.sh: could not build /tmp/gm" >&2
export PYTHONPATH=/tmp/site:/tmp/gm:$PWD PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false
export GRADMEM_DEFAULT_GGUF=/root/model/SmolLM2-135M-Instruct.Q4_1.gguf GRADMEM_CACHE_DIR=/root/cache
