#!/usr/bin/env bash
# Open-key facts (runs/open-keys/README.md), on a 4-GPU machine, every run from the shipped adapter (pln4g step
# 103) with pln's curriculum (product layout, 256-token segments, K = 1), one GPU each:
#   EVAL=1 bash runs/open-keys/train.sh MINUTES [name ...]     (no names: ctl o3 o6 o6n on GPUs 0-3)
# Re-running resumes each run from /root/runs/<name>.
set -u
minutes=$1
shift
A="--precision bf16 --lora-rank 8 --inner-optimizer nsgd --inner-lr 0.1 --write-skip 1 --memory-tokens 16
   --init-adapter gradmem_agent/adapters/SmolLM2-135M-Instruct --samples 32 --micro-samples 16
   --warmup 10 --seed ${SEED:-910000} --lr 3e-4"
mix='{"chat":0.7,"babi1":0.1,"babi2":0.1,"babi3":0.1}'
stage() {  # pln's stage with $1 of the facts from the open-key kinds and $2 of the names made up
  echo "[{\"start\":0,\"inner_steps\":1,\"chat_turns\":[24,96],\"segment_tokens\":256,\"facts\":[3,8],
    \"memory_only\":0.5,\"recent_tokens\":[null,256,512,512],\"questions\":2,\"invented_names\":$2,
    \"open_facts\":$1}]" | tr -d ' \n'
}
declare -A spec=(
  [ctl]="--mix $mix --curriculum $(stage 0 0.3)"    # the shipped adapter's own data, fresh seeds: the control
  [o3]="--mix $mix --curriculum $(stage 0.3 0.3)"   # 30% of the facts open-key
  [o6]="--mix $mix --curriculum $(stage 0.6 0.3)"   # 60%
  [o6n]="--mix $mix --curriculum $(stage 0.6 0.6)"  # 60%, and 60% of the names made up
)
declare -A gpu=([ctl]=0 [o3]=1 [o6]=2 [o6n]=3)
names=("$@")
[ ${#names[@]} -eq 0 ] && names=(ctl o3 o6 o6n)
source scripts/device/run_named.sh
run_named "$minutes" "${names[@]}"
