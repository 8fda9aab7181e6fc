#!/usr/bin/env bash
# Side-by-side outer-step time of fresh adapters: fp32 vs bf16 autocast at batch 8, and bf16 at batch 16.
set -u
source scripts/device/env.sh
for cfg in "fp32 8" "bf16 8" "bf16 16"; do
  set -- $cfg
  python -m gradmem_agent.training.train --out /root/probe-$1-$2 --precision $1 --samples $2 --max-steps 20 \
    --lora-rank 8 --lr 3e-3 2>&1 | grep -E '"step": 20' | sed "s/^/$1 batch $2: /"
done
