"""What a WRITE produces: memory vectors and how well they hold their text."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import torch


@dataclass
class WriteStats:
    """Teacher-forced reconstruction quality of one memory, and what the WRITE cost.

    `token_accuracy` and `loss` describe the returned vectors (the best step seen). `stopped` says why the
    loop ended: "target" (accuracy reached), "steps" (budget spent) or "nonfinite" (loss blew up; the best
    finite memory is kept).
    """

    token_accuracy: float
    loss: float
    steps: int
    seconds: float
    tokens: int
    stopped: str = "steps"
    history: list[dict[str, float]] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> WriteStats:
        known = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        return cls(**known)


@dataclass
class Memory:
    """`vectors` [memory_tokens, hidden] in float32 on the CPU, before the adapter's projection."""

    vectors: torch.Tensor
    stats: WriteStats
    fingerprint: str = ""
    adapter_id: str | None = None

    @property
    def memory_tokens(self) -> int:
        return self.vectors.shape[0]

    @property
    def nbytes(self) -> int:
        return self.vectors.numel() * self.vectors.element_size()
