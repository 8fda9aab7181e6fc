#!/usr/bin/env bash
# Warm-start the chat task from a toy reader (runs/diagnostics/README.md, section 4), on the GPU machine:
#   SEEDS="0 1 ... 15" STEPS=100 MEMORY_TOKENS=16 bash runs/diagnostics/toy_to_chat.sh CHAT_MINUTES
# 1. toy seeds in the chat run's shape (16 vectors, the note as a ChatML turn, LoRA r8, nsgd 0.1, token 0
#    hidden), each adapter saved; the seed with the largest own-minus-other exact match becomes the warm start;
# 2. two chat runs side by side, the same settings, "warm" (--init-adapter the toy reader) and "cold";
#    $OUT/<name>.tar each (train_parallel.sh), $OUT/toy.log. A second call skips step 1 and resumes both.
set -u
source scripts/device/env.sh
# one set of adapter and WRITE settings for the toy and both chat runs (--init-adapter checks shapes only)
shared="--memory-tokens ${MEMORY_TOKENS:-16} --lora-rank 8 --inner-optimizer nsgd --inner-lr 0.1 --write-skip 1 --lr 1e-3"
if [ ! -d /root/toyad/best ]; then
  python -c "from gradmem_agent.models import load_model; load_model('default', device='cpu')" > /dev/null 2>&1
  for seed in ${SEEDS:-0 1 2 3 4 5 6 7}; do
    # shellcheck disable=SC2086  # the settings are meant to split
    timeout "${TOY_SECONDS:-330}" python runs/diagnostics/toy_reading.py --device cuda --chat $shared --steps "${STEPS:-100}" --eval-every 25 \
      --seed "$seed" --save "/root/toyad/s$seed" > "/root/toyad-s$seed.log" 2>&1 &
  done
  wait
  grep -hE '^(before|[0-9]+|final) ' /root/toyad-s*.log | cut -c1-400 > "$OUT/toy.log"
  best=$(python - <<'PY'
import glob, json
rows = []
for path in glob.glob("/root/toyad-s*.log"):
    for line in open(path):
        if line.startswith("final "):
            row = json.loads(line[6:])
            rows.append((row.get("own_exact", 0) - row.get("other_exact", 0), row["seed"]))
gap, seed = max(rows) if rows else (0, None)
print(f"s{seed}" if gap >= 0.5 else "")
PY
)
  if [ -z "$best" ]; then echo "no toy seed reads: no warm start"; cat "$OUT/toy.log"; exit 0; fi
  echo "warm start from toy seed $best"
  cp -r "/root/toyad/$best" /root/toyad/best
fi
# chats long enough that the fact leaves the recent window (2-4 messages stay as text)
curriculum=${CURRICULUM:-'[{"start":0,"inner_steps":1,"chat_turns":[4,6],"segment_tokens":256,"kv_pairs":[1,2],"facts":[1,1],"memory_only":1.0}]'}
chat="--precision bf16 --samples 16 $shared --mix {\"chat\":1.0} --curriculum $curriculum"
bash scripts/device/train_parallel.sh "$1" "warm${TAG:-}|$chat --init-adapter /root/toyad/best" "cold${TAG:-}|$chat"
