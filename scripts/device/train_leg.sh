#!/usr/bin/env bash
# One time-boxed leg of a meta-training run on the GPU machine: resume /root/runs/$RUN (seeded from the
# adapter in $SEED_FROM when that run has no checkpoint yet), train for $1 minutes with the remaining
# arguments, copy the adapter and log to $OUT, then (EVAL=1, the default) score it on the held-out chats.
set -u
minutes=${1:-8}
shift || true
source scripts/device/env.sh
run=/root/runs/${RUN:-main}
if [ ! -f "$run/checkpoint/adapter.safetensors" ] && [ -n "${SEED_FROM:-}" ]; then
  mkdir -p "$run/checkpoint" && cp "$SEED_FROM/adapter.json" "$SEED_FROM/adapter.safetensors" "$run/checkpoint/"
fi
python -m gradmem_agent.training.train --out "$run" --minutes "$minutes" "$@" 2>&1 | grep -vE 'Warning|warn' | tail -n 40
mkdir -p "$OUT/adapter"
cp "$run/checkpoint/adapter.json" "$run/checkpoint/adapter.safetensors" "$run/log.jsonl" "$OUT/adapter/"
if [ "${EVAL:-1}" = 1 ]; then
  python benchmarks/quality.py --device cuda --sections chats --adapter "$run/checkpoint" \
    --out "$OUT/chats.json" --no-plot 2>&1 | grep -E 'chats|saved'
fi
