#!/usr/bin/env bash
# The parts of the quality benchmark that quality_parallel.sh could not finish inside one command.
set -u
source scripts/device/env.sh
adapter=$1
part() { local name=$1; shift
  timeout ${PART_SECONDS:-480} python benchmarks/quality.py --device cuda --adapter "$adapter" --no-plot --out "$OUT/q-$name.json" "$@" \
    2>&1 | grep -vE 'Warning|warn' > "/root/q2-$name.log"; }
part babi2 --sections babi --babi-tasks 2 --methods trained,trained-truncation,trained-full &
part babi3a --sections babi --babi-tasks 3 --methods frozen &
part babi3b --sections babi --babi-tasks 3 --methods trained,trained-truncation,trained-full &
part kv-16 --sections kv --kv-pairs 16 --kv 16 &
part kv-64 --sections kv --kv-pairs 64 --kv 16 &
wait
tail -n 8 /root/q2-*.log | cut -c1-300
