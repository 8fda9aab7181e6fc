#!/usr/bin/env bash
# Made-up names in the training chats (runs/invented-names/README.md), on a 4-GPU machine, every run from the
# shipped adapter of the day (pl2 step 201; `git checkout 0f90c9f -- gradmem_agent/adapters` restores it, the soup
# of plc and pln5 has replaced it) with pl2's product-layout curriculum:
#   EVAL=1 bash runs/invented-names/train.sh MINUTES [name ...]     (no names: the first four)
# Re-running resumes each run from /root/runs/<name>.
set -u
minutes=$1
shift
A="--precision bf16 --lora-rank 8 --inner-optimizer nsgd --inner-lr 0.1 --write-skip 1 --memory-tokens 16
   --init-adapter gradmem_agent/adapters/SmolLM2-135M-Instruct --samples 32 --micro-samples 16 --lr 3e-4
   --warmup 10 --seed ${SEED:-600000}"
mix='{"chat":0.7,"babi1":0.1,"babi2":0.1,"babi3":0.1}'
stage() {  # pl2's stage with $1 of the people's and pets' names made up
  echo "[{\"start\":0,\"inner_steps\":1,\"chat_turns\":[24,96],\"segment_tokens\":256,\"facts\":[3,8],
    \"memory_only\":0.5,\"recent_tokens\":[null,256,512,512],\"questions\":2,\"invented_names\":$1}]" | tr -d ' \n'
}
declare -A spec=(
  [plc]="--mix $mix --curriculum $(stage 0)"                             # control: pl2 on fresh data
  [pln]="--mix $mix --curriculum $(stage 0.3)"
  [pln5]="--mix $mix --curriculum $(stage 0.5)"
  [plnc]="--mix $mix --curriculum $(stage 0.3) --recall-weight 0.2"        # and the reader repeats each segment
)
spec[pln4g]=${spec[pln]}  # pln over all four GPUs (DDP): 4 x 32 samples a step; run with SEED=700000
spec[pln4gx]=${spec[pln]}  # pln4g continued from its step 103 (the shipped adapter): SEED=800000
declare -A gpu=([plc]=0 [pln]=1 [pln5]=2 [plnc]=3 [pln4g]=0,1,2,3 [pln4gx]=0,1,2,3)
names=("$@")
[ ${#names[@]} -eq 0 ] && names=(plc pln pln5 plnc)
source scripts/device/run_named.sh
run_named "$minutes" "${names[@]}"
