#!/usr/bin/env bash
# quality_parallel.sh for several adapters at once, one GPU each, waited for in this shell (never poll with
# `pgrep -f`: the pattern is in this call's own command line, so the poll matches itself and never ends).
#   ADAPTERS="name:dir:gpu ..." bash scripts/device/quality_adapters.sh ["part|quality.py arguments" ...]
# Each adapter's merged report comes back as $OUT/<name>/quality.json.
set -u
out=$OUT
for entry in ${ADAPTERS:?name:dir:gpu ...}; do
  IFS=: read -r name dir gpu <<< "$entry"
  mkdir -p "$out/$name"
  CUDA_VISIBLE_DEVICES=$gpu OUT=$out/$name bash scripts/device/quality_parallel.sh "$dir" "$@" > "/root/q-$name.log" 2>&1 &
done
wait
for entry in $ADAPTERS; do
  name=${entry%%:*}
  echo "== $name"
  grep -E '^ +[a-z]|kv pairs' "/root/q-$name.log" | cut -c1-200
done
