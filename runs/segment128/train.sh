#!/usr/bin/env bash
# More memory per token (runs/segment128/README.md), on a 2-GPU machine, every run from the shipped adapter
# (pln4g step 103) with pln's curriculum (product layout, 30% of the names made up):
#   EVAL=1 bash runs/segment128/train.sh MINUTES [name ...]     (no names: s128 alone on GPU 0, s128f and m32 on GPU 1)
# Re-running resumes each run from /root/runs/<name>. The adapter records its segment size, and
# benchmarks/quality.py reads with it.
set -u
minutes=$1
shift
A="--precision bf16 --lora-rank 8 --inner-optimizer nsgd --inner-lr 0.1 --write-skip 1 --memory-tokens 16
   --init-adapter gradmem_agent/adapters/SmolLM2-135M-Instruct --samples 32 --micro-samples 16
   --warmup 10 --seed ${SEED:-900000}"
mix='{"chat":0.7,"babi1":0.1,"babi2":0.1,"babi3":0.1}'
stage() {  # pln's stage with segments of $1 tokens and K = $2 WRITE steps
  echo "[{\"start\":0,\"inner_steps\":$2,\"chat_turns\":[24,96],\"segment_tokens\":$1,\"facts\":[3,8],
    \"memory_only\":0.5,\"recent_tokens\":[null,256,512,512],\"questions\":2,\"invented_names\":0.3}]" | tr -d ' \n'
}
declare -A spec=(
  [s128]="--mix $mix --curriculum $(stage 128 1) --lr 3e-4"       # 16 vectors per 128 tokens: twice the memory
  [s128f]="--mix $mix --curriculum $(stage 128 1) --lr 1e-3"      # the same, a faster learning rate
  [s128k2]="--mix $mix --curriculum $(stage 128 2) --lr 3e-4"     # and K = 2, second order through both steps
  [m32]="--mix $mix --curriculum $(stage 256 1) --lr 3e-4 --memory-tokens 32 --grow-memory"  # 32 per 256
)
declare -A gpu=([s128]=0 [s128f]=1 [s128k2]=0 [m32]=1)
names=("$@")
[ ${#names[@]} -eq 0 ] && names=(s128 s128f m32)
source scripts/device/run_named.sh
run_named "$minutes" "${names[@]}"
