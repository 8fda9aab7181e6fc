# Sourced on the GPU machine (see scripts/device/README.md): the default model from /root/model, wheels from /tmp/site.
export PYTHONPATH=/tmp/site:$PWD PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false
export GRADMEM_DEFAULT_GGUF=/root/model/SmolLM2-135M-Instruct.Q4_1.gguf GRADMEM_CACHE_DIR=/root/cache
