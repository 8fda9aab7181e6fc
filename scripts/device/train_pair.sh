#!/usr/bin/env bash
# Train the two LoRA placements side by side on one GPU for $1 minutes (resuming from /root/runs),
# then evaluate both on the held-out chats. Adapters and logs are copied to $OUT.
set -u
minutes=${1:-7}
shift || true
source scripts/device/env.sh
python -c "from gradmem_agent.models import cached_default_model_dir as c; print('model at', c())"
for phases in both write; do
  python -m gradmem_agent.training.train --out /root/runs/$phases --minutes "$minutes" --lora-phases $phases \
    --lora-rank 8 "$@" > /root/runs-$phases.log 2>&1 &
done
wait
for phases in both write; do
  echo "== $phases"; grep -E '^\{|resumed|Error|error' /root/runs-$phases.log | tail -n 8
  mkdir -p "$OUT/$phases"
  cp /root/runs/$phases/checkpoint/adapter.json /root/runs/$phases/checkpoint/adapter.safetensors "$OUT/$phases/"
  cp /root/runs/$phases/log.jsonl "$OUT/$phases/" 2>/dev/null
done
