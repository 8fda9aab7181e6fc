#!/usr/bin/env bash
# The full quality benchmark for the adapter in $1, its sections in parallel processes (the GPU is
# launch-bound at these sizes); each writes $OUT/q-<part>.json, merged here afterwards with
# `python benchmarks/quality.py --merge`. Background: with & it runs beside a training leg.
set -u
source scripts/device/env.sh
adapter=$1
part() { local name=$1; shift
  timeout ${PART_SECONDS:-540} python benchmarks/quality.py --device cuda --adapter "$adapter" --no-plot --out "$OUT/q-$name.json" "$@" \
    2>&1 | grep -vE 'Warning|warn' > "/root/q-$name.log"; }
[ "${CHATS:-1}" = 1 ] && part chats --sections chats &
for t in 1 2 3; do part babi$t --sections babi --babi-tasks $t & done
part kv-small --sections kv --kv-pairs 4,8,16 --kv 16 &
part kv-32 --sections kv --kv-pairs 32 --kv 16 &
part kv-64 --sections kv --kv-pairs 64 --kv 16 &
wait
tail -n 8 /root/q-*.log | cut -c1-300
python benchmarks/quality.py --merge "$OUT"/q-*.json ${EXTRA_PARTS:-} --out "$OUT/quality.json" --no-plot && rm "$OUT"/q-*.json
