"""Average two adapters of the same shape and lineage, tensor by tensor (a "model soup").

Two runs that start from one adapter and train a few hundred steps at a low learning rate stay close, and
their average is itself a sensible adapter. M0, the projection and the LoRA A and B matrices are averaged
separately, so the LoRA update is not exactly the average of the two updates. The config and training
record are A's, with the soup noted under `training.soup`.
"""

from __future__ import annotations

import json
from pathlib import Path

from safetensors.torch import load_file, save_file

from ..adapter import ADAPTER_CONFIG, ADAPTER_WEIGHTS, AdapterMismatchError

# what must agree for the average to be an adapter the engine can load and write with
SHAPE_KEYS = ("model_fingerprint", "memory_tokens", "hidden_size", "lora_rank", "lora_alpha", "lora_targets",
              "lora_phases", "write_steps", "write_lr", "write_optimizer", "write_skip_tokens")


def average_adapters(a: Path, b: Path, out: Path, weight_a: float = 0.5, names: tuple[str, str] | None = None) -> Path:
    """Write weight_a * A + (1 - weight_a) * B to `out`; `names` say what A and B were (default: their paths)."""
    if not 0.0 <= weight_a <= 1.0:
        raise ValueError(f"weight_a must lie in [0, 1], got {weight_a}")
    config_a, config_b = (json.loads((d / ADAPTER_CONFIG).read_text()) for d in (a, b))
    differ = [k for k in SHAPE_KEYS if config_a.get(k) != config_b.get(k)]
    if differ:
        raise AdapterMismatchError(f"{a} and {b} differ in {differ}: not averaged")
    tensors_a, tensors_b = load_file(str(a / ADAPTER_WEIGHTS)), load_file(str(b / ADAPTER_WEIGHTS))
    if tensors_a.keys() != tensors_b.keys():
        raise AdapterMismatchError(f"{a} and {b} hold different tensors: not averaged")
    soup = {k: (weight_a * tensors_a[k] + (1 - weight_a) * tensors_b[k]).contiguous() for k in tensors_a}
    out.mkdir(parents=True, exist_ok=True)
    save_file(soup, str(out / ADAPTER_WEIGHTS))
    name_a, name_b = names or (str(a), str(b))
    config_a["training"]["soup"] = {"a": name_a, "b": name_b, "weight_a": weight_a, "b_training": config_b["training"]}
    (out / ADAPTER_CONFIG).write_text(json.dumps(config_a, indent=1) + "\n")
    return out
