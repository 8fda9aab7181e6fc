#!/usr/bin/env bash
# Several meta-training runs side by side on one GPU (measured: two runs take 1.45 s a step each, one alone ~0.95).
#   bash scripts/device/train_parallel.sh MINUTES "name|gradmem train arguments" ...
# Each run resumes from /root/runs/<name> (optimiser state stays there; on a fresh machine, from the adapter in
# $RESUME_DIR/<name>.tar with a re-warmed lr), trains for MINUTES and leaves $OUT/<name>.tar (adapter + log.jsonl,
# under the 16 MiB a file may have). EVAL=1 then scores each on the held-out chats (trained arm only).
set -u
minutes=$1
shift
source scripts/device/env.sh
python -c "from gradmem_agent.models import load_model; load_model('default', device='cpu')" > /dev/null 2>&1
for spec in "$@"; do
  name=${spec%%|*}
  run=/root/runs/$name
  if [ ! -d "$run/checkpoint" ] && [ -f "${RESUME_DIR:-/nonexistent}/$name.tar" ]; then
    mkdir -p "$run" && tar -xf "$RESUME_DIR/$name.tar" -C "$run"
  fi
  # shellcheck disable=SC2086  # the run's arguments are meant to split
  python -m gradmem_agent.training.train --out "$run" --minutes "$minutes" ${spec#*|} \
    2>&1 | grep -vE 'Warning|warn' > "/root/train-$name.log" &
done
wait
for spec in "$@"; do
  name=${spec%%|*}
  echo "== $name: ${spec#*|}"
  grep -E '^\{|resumed|Error|error' "/root/train-$name.log" | tail -n 4 | cut -c1-400
  tar -cf "$OUT/$name.tar" -C "/root/runs/$name" --exclude state.pt checkpoint log.jsonl
done
if [ "${EVAL:-0}" = 1 ]; then
  for spec in "$@"; do
    name=${spec%%|*}
    python benchmarks/quality.py --device cuda --sections chats --methods trained --adapter "/root/runs/$name/checkpoint" \
      --out "$OUT/chats-$name.json" --no-plot 2>&1 | grep -E 'chats|GradMem' | tail -n 3 &
  done
  wait
fi
