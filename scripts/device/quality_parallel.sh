#!/usr/bin/env bash
# The quality benchmark for the adapter in $1, split over parallel processes (the GPU is launch-bound at
# these sizes). Each further argument is one part, "name|quality.py arguments"; without any, the full run's
# seven parts. Each part writes $OUT/q-<name>.json (saved after every method, so a part cut by its
# PART_SECONDS keeps what it measured); they are merged into $OUT/quality.json with any EXTRA_PARTS files.
set -u
source scripts/device/env.sh
adapter=$1
shift
parts=("$@")
if [ ${#parts[@]} -eq 0 ]; then
  parts=("chats|--sections chats,chats-b,chats-c" "babi1|--sections babi --babi-tasks 1" "babi2|--sections babi --babi-tasks 2"
         "babi3|--sections babi --babi-tasks 3" "kv-small|--sections kv --kv-pairs 4,8,16 --kv 16"
         "kv-32|--sections kv --kv-pairs 32 --kv 16" "kv-64|--sections kv --kv-pairs 64 --kv 16")
fi
for spec in "${parts[@]}"; do
  name=${spec%%|*}
  # shellcheck disable=SC2086  # the part's arguments are meant to split
  timeout "${PART_SECONDS:-540}" python benchmarks/quality.py --device cuda --adapter "$adapter" --no-plot \
    --out "$OUT/q-$name.json" ${spec#*|} 2>&1 | grep -vE 'Warning|warn' > "/root/q-$name.log" &
done
wait
tail -n 8 /root/q-*.log | cut -c1-300
python benchmarks/quality.py --merge "$OUT"/q-*.json ${EXTRA_PARTS:-} --out "$OUT/quality.json" --no-plot \
  && rm "$OUT"/q-*.json
