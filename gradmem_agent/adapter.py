"""The trainable parts that make memory readable (GradMem meta-learning), and their files.

An adapter holds the memory init `M0`, a d×d projection applied to memory before it enters the model
(identity at init: the paper's learned preconditioner of the inner gradient), and optionally LoRA weights
on the language model. `lora_phases` says where LoRA is active: "write" (READ goes through the untouched
base model, so chat behaviour without memory cannot change) or "both".
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file
from torch import nn

from .options import LoraPhases, Optimizer, Phase, check_option

ADAPTER_CONFIG = "adapter.json"
ADAPTER_WEIGHTS = "adapter.safetensors"
LORA_PREFIX = "lora."


class AdapterMismatchError(RuntimeError):
    """An adapter trained for another model was loaded."""


@dataclass
class AdapterConfig:
    hidden_size: int
    memory_tokens: int
    model_fingerprint: str = ""
    projection: bool = True
    lora_rank: int = 0
    lora_alpha: float = 16.0
    lora_targets: list[str] = field(
        default_factory=lambda: ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
    )
    lora_phases: LoraPhases = "write"
    write_steps: int = 3
    write_lr: float = 0.4
    write_optimizer: Optimizer = "sgd"
    write_skip_tokens: int = 0  # leading text tokens hidden from WRITE, as in training
    segment_tokens: int = 256  # the most text one WRITE held in training (MemoryPolicy.segment_tokens)
    name: str = "gradmem-adapter"
    training: dict = field(default_factory=dict)
    evaluation: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        check_option(self.lora_phases, LoraPhases, "lora_phases")
        check_option(self.write_optimizer, Optimizer, "write_optimizer")


def untrained_m0(memory_tokens: int, embeddings: torch.Tensor, seed: int = 0) -> torch.Tensor:
    """A fixed random init scaled like the token embeddings (so memory starts in-distribution)."""
    gen = torch.Generator().manual_seed(seed)
    std = embeddings.detach().float().std().item()
    return torch.randn(memory_tokens, embeddings.shape[1], generator=gen) * std


class GradMemAdapter(nn.Module):
    def __init__(self, config: AdapterConfig, m0: torch.Tensor | None = None) -> None:
        super().__init__()
        self.config = config
        init = m0 if m0 is not None else torch.randn(config.memory_tokens, config.hidden_size) * 0.02
        self.m0 = nn.Parameter(init.float().clone())
        self.projection = nn.Linear(config.hidden_size, config.hidden_size, bias=False) if config.projection else None
        if self.projection is not None:
            with torch.no_grad():
                self.projection.weight.copy_(torch.eye(config.hidden_size))
        self._lora_model: nn.Module | None = None

    @property
    def adapter_id(self) -> str:
        digest = hashlib.sha256()
        for name, tensor in sorted(self.state_tensors().items()):
            digest.update(name.encode())
            digest.update(tensor.detach().float().cpu().numpy().tobytes()[:4096])
        return f"{self.config.name}-{digest.hexdigest()[:12]}"

    def project(self, memory: torch.Tensor) -> torch.Tensor:
        if self.projection is None:
            return memory
        return memory @ self.projection.weight.to(memory.dtype).T

    # LoRA -----------------------------------------------------------------------------------------
    def attach_lora(self, model: nn.Module) -> None:
        """Inject LoRA layers into `model` in place (peft). Idempotent per model."""
        if self.config.lora_rank <= 0 or self._lora_model is model:
            return
        from peft import LoraConfig, inject_adapter_in_model

        lora = LoraConfig(
            r=self.config.lora_rank,
            lora_alpha=self.config.lora_alpha,
            target_modules=self.config.lora_targets,
            lora_dropout=0.0,
            bias="none",
        )
        inject_adapter_in_model(lora, model, adapter_name="gradmem")
        self._lora_model = model

    def lora_parameters(self) -> Iterator[tuple[str, nn.Parameter]]:
        if self._lora_model is None:
            return iter(())
        return ((n, p) for n, p in self._lora_model.named_parameters() if "lora_" in n)

    @contextlib.contextmanager
    def phase(self, name: Phase) -> Iterator[None]:
        """Switch LoRA on for "write", for "read" only when lora_phases == 'both', never for "plain".

        "plain" is a READ with no memory in the prompt: the untouched base model, so that answers that read no
        memory are the base model's own."""
        check_option(name, Phase, "phase")
        active = self._lora_model is not None and (name == "write" or
                                                   (name == "read" and self.config.lora_phases == "both"))
        layers = self._lora_layers()
        for layer in layers:
            layer.enable_adapters(active)
        try:
            yield
        finally:
            for layer in layers:
                layer.enable_adapters(True)

    def _lora_layers(self) -> list:
        if self._lora_model is None:
            return []
        from peft.tuners.tuners_utils import BaseTunerLayer

        return [m for m in self._lora_model.modules() if isinstance(m, BaseTunerLayer)]

    # files ----------------------------------------------------------------------------------------
    def state_tensors(self) -> dict[str, torch.Tensor]:
        tensors = {"m0": self.m0.detach()}
        if self.projection is not None:
            tensors["projection"] = self.projection.weight.detach()
        for name, param in self.lora_parameters():
            tensors[LORA_PREFIX + name] = param.detach()
        return {k: v.float().cpu().contiguous() for k, v in tensors.items()}

    def save(self, directory: str | Path) -> Path:
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        save_file(self.state_tensors(), str(directory / ADAPTER_WEIGHTS))
        (directory / ADAPTER_CONFIG).write_text(json.dumps(asdict(self.config), indent=2) + "\n")
        return directory

    @classmethod
    def load(cls, directory: str | Path, model: nn.Module | None = None) -> GradMemAdapter:
        """Load an adapter; with `model`, inject its LoRA weights into that model."""
        directory = Path(directory)
        config_path, weights_path = directory / ADAPTER_CONFIG, directory / ADAPTER_WEIGHTS
        if not config_path.is_file() or not weights_path.is_file():
            raise FileNotFoundError(f"no GradMem adapter in {directory} (need {ADAPTER_CONFIG} and {ADAPTER_WEIGHTS})")
        config = AdapterConfig(**json.loads(config_path.read_text()))
        tensors = load_file(str(weights_path))
        adapter = cls(config, m0=tensors["m0"])
        if adapter.projection is not None:
            with torch.no_grad():
                adapter.projection.weight.copy_(tensors["projection"])
        if model is not None and config.lora_rank > 0:
            adapter.attach_lora(model)
            params = dict(adapter.lora_parameters())
            missing = [k for k in tensors if k.startswith(LORA_PREFIX) and k[len(LORA_PREFIX):] not in params]
            if missing:
                raise AdapterMismatchError(f"adapter {directory} has LoRA weights the model lacks: {missing[:3]}")
            with torch.no_grad():
                for name, param in params.items():
                    param.copy_(tensors[LORA_PREFIX + name].to(param.dtype))
        return adapter
