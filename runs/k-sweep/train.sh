#!/usr/bin/env bash
# The k-sweep runs (runs/k-sweep/README.md), all from g16m's adapter with its task mix, on a 4-GPU machine:
#   EVAL=1 bash runs/k-sweep/train.sh MINUTES [name ...]     (no names: all six)
# Re-running resumes each run from /root/runs/<name>.
set -u
minutes=$1
shift
A="--precision bf16 --lora-rank 8 --inner-optimizer nsgd --inner-lr 0.1 --write-skip 1 --lr 1e-3 --warmup 20
   --memory-tokens 16 --init-adapter runs/grow16/g16m/checkpoint --seed 100000"
mix='{"chat":0.7,"babi1":0.1,"babi2":0.1,"babi3":0.1}'
mixkv='{"chat":0.6,"babi1":0.1,"babi2":0.1,"babi3":0.1,"kv":0.1}'
stage() { echo "[{\"start\":0,\"inner_steps\":$1,\"chat_turns\":[8,16],\"segment_tokens\":256,\"kv_pairs\":[2,12],\"facts\":[2,6],\"memory_only\":1.0}]"; }
declare -A spec=(
  [m1]="--samples 16 --mix $mix --curriculum $(stage 1)"
  [m1kv]="--samples 16 --mix $mixkv --curriculum $(stage 1)"
  [k2]="--samples 16 --mix $mix --curriculum $(stage 2)"
  [k3o1]="--samples 16 --mix $mix --order k1 --curriculum $(stage 3)"
  [k5o1]="--samples 16 --mix $mix --order k1 --curriculum $(stage 5)"
  [s32]="--samples 32 --mix $mix --curriculum $(stage 1)"
  # the last leg: s32 again, and from s32's adapter at a lower learning rate
  [s32lo]="--samples 32 --mix $mix --curriculum $(stage 1) --init-adapter /root/runs/s32/checkpoint --lr 3e-4 --warmup 10 --seed 200000"
)
declare -A gpu=([m1]=0 [m1kv]=0 [k2]=1 [k3o1]=2 [k5o1]=2 [s32]=3 [s32lo]=0)
names=("$@")
[ ${#names[@]} -eq 0 ] && names=(m1 m1kv k2 k3o1 k5o1 s32)
source scripts/device/run_named.sh
run_named "$minutes" "${names[@]}"
