#!/usr/bin/env bash
# Held-out chat section of the quality benchmark for each trained run directory given.
set -u
source scripts/device/env.sh
for phases in "$@"; do
  python benchmarks/quality.py --device cuda --sections chats --adapter /root/runs/$phases/checkpoint \
    --out "$OUT/chats-$phases.json" 2>&1 | grep -vE 'Warning|warn' | tail -n 12
done
