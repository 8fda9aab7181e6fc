#!/usr/bin/env bash
# Two meta-training runs side by side on one GPU for $1 minutes: run A and run B differ by the extra
# arguments in $A_ARGS / $B_ARGS. Each resumes from /root/runs/<name>. Then the held-out chat eval of each.
set -u
minutes=${1:-6}
source scripts/device/env.sh
python -m gradmem_agent.training.train --out /root/runs/a --minutes "$minutes" ${A_ARGS:-} > /root/runs-a.log 2>&1 &
python -m gradmem_agent.training.train --out /root/runs/b --minutes "$minutes" ${B_ARGS:-} > /root/runs-b.log 2>&1 &
wait
for run in a b; do
  echo "== $run ${run^^}_ARGS"; grep -E '^\{|resumed|Error' /root/runs-$run.log | tail -n 6
  mkdir -p "$OUT/$run"
  cp /root/runs/$run/checkpoint/adapter.json /root/runs/$run/checkpoint/adapter.safetensors "$OUT/$run/"
  python benchmarks/quality.py --device cuda --sections chats --adapter /root/runs/$run/checkpoint \
    --out "$OUT/$run/chats.json" --no-plot 2>&1 | grep -E 'chats|saved' | tail -n 7
done
