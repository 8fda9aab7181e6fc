#!/usr/bin/env bash
# Several meta-training runs side by side on the machine's GPUs (measured on one H100: two runs take 1.45 s a
# step each, one alone ~0.95).
#   bash scripts/device/train_parallel.sh MINUTES "name|gradmem train arguments" ...
# Run i goes to GPU ${PLACE[i]} (PLACE="0 0 1 2 2 3": a space-separated list), else round-robin over the GPUs;
# an entry naming several GPUs ("0,1,2,3") runs that one run over them with DDP (torch.distributed.run).
# Each run resumes from /root/runs/<name> (optimiser state stays there; on a fresh machine, from the adapter in
# $RESUME_DIR/<name>.tar with a re-warmed lr) and trains for MINUTES. EVAL=1 then scores each run's adapter on
# the held-out chats and on the dev chats (generated, validation split: the one to choose runs by), or on the
# benchmarks/quality.py sections in EVAL_SECTIONS (e.g. chats,dev,dev-recent,product).
# Back in $OUT: logs.tar (every log.jsonl and eval report) and <name>.tar (adapter + log, under the 16 MiB a
# file may have) for the runs named in RETURN (default: all; at most 8 files come back, 64 MiB in all).
set -u
minutes=$1
shift
source scripts/device/env.sh
# At 70-74 GiB of 80, DDP steps of 5 s took 7-11 s at times with the allocator's default segments; with
# expandable segments 11 of 12 windows took 4.5-5.8 s (one run in sequence: runs/invented-names, pln4gx).
export PYTORCH_CUDA_ALLOC_CONF=${PYTORCH_CUDA_ALLOC_CONF:-expandable_segments:True}
python -c "from gradmem_agent.models import load_model; load_model('default', device='cpu')" > /dev/null 2>&1
gpus=$(nvidia-smi -L | wc -l)
read -r -a place <<< "${PLACE:-}"
i=0
for spec in "$@"; do
  name=${spec%%|*}
  run=/root/runs/$name
  if [ ! -d "$run/checkpoint" ] && [ -f "${RESUME_DIR:-/nonexistent}/$name.tar" ]; then
    mkdir -p "$run" && tar -xf "$RESUME_DIR/$name.tar" -C "$run"
  fi
  gpu=${place[$i]:-$((i % gpus))}
  launch=(python)
  if [[ $gpu == *,* ]]; then  # one run over several GPUs (PLACE="0,1,2,3"): DDP, a process a GPU
    launch=(python -m torch.distributed.run --standalone --nproc_per_node "$(tr , '\n' <<< "$gpu" | wc -l)")
  fi
  # shellcheck disable=SC2086  # the run's arguments are meant to split
  CUDA_VISIBLE_DEVICES=$gpu timeout $((${minutes%.*} * 60 + 150)) "${launch[@]}" -m gradmem_agent.training.train \
    --out "$run" --minutes "$minutes" ${spec#*|} 2>&1 | grep -vE 'Warning|warn' > "/root/train-$name.log" &
  i=$((i + 1))
done
wait
mkdir -p /root/evals
for spec in "$@"; do
  name=${spec%%|*}
  echo "== $name: ${spec#*|}"
  grep -E '^\{|resumed|Error|error' "/root/train-$name.log" | tail -n 3 | cut -c1-400
done
if [ "${EVAL:-0}" = 1 ]; then
  i=0
  for spec in "$@"; do
    name=${spec%%|*}
    step=$(python -c "import json,sys; print(json.load(open(sys.argv[1]))['training']['steps_done'])" \
      "/root/runs/$name/checkpoint/adapter.json" 2>/dev/null || echo x)
    CUDA_VISIBLE_DEVICES=$((i % gpus)) timeout "${EVAL_TIMEOUT:-300}" python benchmarks/quality.py --device cuda --sections "${EVAL_SECTIONS:-chats,dev}" \
      --methods trained --adapter "/root/runs/$name/checkpoint" --out "/root/evals/$name-step$step.json" --no-plot \
      2>&1 | grep -E '^ +(chats|chats-b|chats-c|test|dev|dev-recent|product) ' | sed "s/^/$name step $step /" &
    i=$((i + 1))
  done
  wait
fi
mkdir -p /root/logs
for spec in "$@"; do
  name=${spec%%|*}
  cp "/root/runs/$name/log.jsonl" "/root/logs/$name.log.jsonl" 2>/dev/null
done
tar -cf "$OUT/logs.tar" -C /root logs evals
for spec in "$@"; do
  name=${spec%%|*}
  case " ${RETURN:-$name} " in *" $name "*)
    tar -cf "$OUT/$name.tar" -C "/root/runs/$name" --exclude state.pt checkpoint log.jsonl ;;
  esac
done
