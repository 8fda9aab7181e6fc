# Sourced by runs/*/train.sh: `run_named MINUTES NAME...` starts the named runs through train_parallel.sh, each
# with the caller's common arguments $A plus its own ${spec[NAME]}, on GPU ${gpu[NAME]}.
run_named() {
  local minutes=$1 n place=""
  local runs=()
  shift
  for n in "$@"; do
    runs+=("$n|$A ${spec[$n]}")
    place="$place ${gpu[$n]}"
  done
  PLACE="$place" bash scripts/device/train_parallel.sh "$minutes" "${runs[@]}"
}
