#!/usr/bin/env bash
# The toy reading task (toy_reading.py) for several settings x seeds at once on the GPU machine:
#   SEEDS="0 1" STEPS=100 bash runs/diagnostics/toy_grid.sh "name|toy_reading.py arguments" ...
# One process per (setting, seed), each cut at $RUN_SECONDS; prints every evaluation and writes
# $OUT/toy_grid.log (all rows, prefixed with setting and seed).
set -u
source scripts/device/env.sh
python -c "from gradmem_agent.models import load_model; load_model('default', device='cpu')" > /dev/null 2>&1
mkdir -p /root/toy
for spec in "$@"; do
  for seed in ${SEEDS:-0 1}; do
    # shellcheck disable=SC2086  # the setting's arguments are meant to split
    timeout "${RUN_SECONDS:-330}" python runs/diagnostics/toy_reading.py --device cuda --steps "${STEPS:-100}" \
      --eval-every "${EVAL_EVERY:-25}" --seed "$seed" ${spec#*|} > "/root/toy/${spec%%|*}-s$seed.log" 2>&1 &
  done
done
wait
for f in /root/toy/*.log; do
  grep -E '^(before|[0-9]+) ' "$f" | sed "s/^/$(basename "$f" .log) /"
done | tee "$OUT/toy_grid.log" | cut -c1-200
