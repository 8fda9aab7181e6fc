"""Average two adapters of the same shape and lineage, tensor by tensor (a "model soup").

    python runs/invented-names/soup.py A_DIR B_DIR OUT_DIR [--weight 0.5] [--names "run A" "run B"]

Both runs here start from the same adapter and train ~150-200 steps at lr 3e-4, so their weights stay
close and their average is a sensible adapter. M0, the projection and the LoRA A and B matrices are
averaged separately (so the LoRA update is not exactly the average of the two updates). The config and
training record are A's, plus a note of the soup."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from safetensors.torch import load_file, save_file


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("a", type=Path)
    parser.add_argument("b", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--weight", type=float, default=0.5, help="weight of A (B gets 1 - weight)")
    parser.add_argument("--names", nargs=2, default=None, metavar=("A", "B"),
                        help="what A and B are, for the record in adapter.json (default: their paths)")
    args = parser.parse_args()
    config_a, config_b = (json.loads((d / "adapter.json").read_text()) for d in (args.a, args.b))
    shape_keys = ("model_fingerprint", "memory_tokens", "hidden_size", "lora_rank", "lora_alpha", "lora_phases",
                  "write_steps", "write_lr", "write_optimizer", "write_skip_tokens")
    differ = [k for k in shape_keys if config_a.get(k) != config_b.get(k)]
    if differ:
        raise SystemExit(f"adapters differ in {differ}: not averaged")
    a, b = load_file(args.a / "adapter.safetensors"), load_file(args.b / "adapter.safetensors")
    if a.keys() != b.keys():
        raise SystemExit("adapters hold different tensors: not averaged")
    soup = {name: (args.weight * a[name] + (1 - args.weight) * b[name]).contiguous() for name in a}
    args.out.mkdir(parents=True, exist_ok=True)
    save_file(soup, args.out / "adapter.safetensors")
    name_a, name_b = args.names or (str(args.a), str(args.b))
    config_a["training"]["soup"] = {"a": name_a, "b": name_b, "weight_a": args.weight,
                                    "b_training": config_b["training"]}
    (args.out / "adapter.json").write_text(json.dumps(config_a, indent=1) + "\n")


if __name__ == "__main__":
    main()
