#!/usr/bin/env bash
# Product-layout training (runs/product-layout/README.md), on a 2-GPU machine, every run from the shipped adapter:
#   EVAL=1 bash runs/product-layout/train.sh MINUTES [name ...]     (no names: pl and cont)
# Re-running resumes each run from /root/runs/<name>.
set -u
minutes=$1
shift
A="--precision bf16 --lora-rank 8 --inner-optimizer nsgd --inner-lr 0.1 --write-skip 1 --memory-tokens 16
   --init-adapter gradmem_agent/adapters/SmolLM2-135M-Instruct --samples 32 --lr 3e-4 --warmup 10"
mix='{"chat":0.7,"babi1":0.1,"babi2":0.1,"babi3":0.1}'
# the shipped adapter's layout: 8-16 message chats, the last 2 or 4 messages as text
short='[{"start":0,"inner_steps":1,"chat_turns":[8,16],"segment_tokens":256,"facts":[2,6],"memory_only":1.0}]'
# the product's: 32-128 messages cut by MemoryPolicy.plan_blocks under a 256- or 512-token window (1-5 blocks),
# a quarter of the steps with the last 2 or 4 messages as text instead
long='[{"start":0,"inner_steps":1,"chat_turns":[32,128],"segment_tokens":256,"facts":[3,8],"memory_only":1.0,
        "recent_tokens":[null,256,512,512]}]'
# pl with the reads cut down (2 questions a sample; pl spent ~16 s a step on reads of ~5) and questions about
# recent text kept half of the time (memory_only 0.5), so the memory in front must not hide the recent turns
long2='[{"start":0,"inner_steps":1,"chat_turns":[24,96],"segment_tokens":256,"facts":[3,8],"memory_only":0.5,
         "recent_tokens":[null,256,512,512],"questions":2}]'
declare -A spec=(
  [pl2]="--mix $mix --curriculum ${long2//[$'\n ']/} --micro-samples 16 --seed 500000"
  [pl]="--mix $mix --curriculum ${long//[$'\n ']/} --micro-samples 8 --seed 300000"
  [cont]="--mix $mix --curriculum $short --seed 400000"
)
declare -A gpu=([pl]=0 [cont]=1 [pl2]=0)
names=("$@")
[ ${#names[@]} -eq 0 ] && names=(pl cont)
source scripts/device/run_named.sh
run_named "$minutes" "${names[@]}"
