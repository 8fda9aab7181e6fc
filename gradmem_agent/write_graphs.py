"""CUDA graphs of the WRITE's passes: one capture per (rows, length) bucket, then one launch per pass.

One eager WRITE of a 256-token block launches thousands of small kernels; on a GPU their launch cost, not their
arithmetic, sets the time. A captured graph replays all of a pass's kernels (forward, the gradient for the
memory, the loss statistics) in one launch with no host synchronisation inside. Shapes are static, so inputs
are padded up to a bucket: rows to a power of two, length to a multiple of LENGTH_BUCKET. Padding is on the
right and masked, so real tokens see exactly what they see eagerly (the tests check the two agree).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

import torch

from .backbone import Backbone
from .write import WritePass, eager_pass

LENGTH_BUCKET = 64
WARMUP_RUNS = 2  # eager runs on a side stream before capture (cuBLAS workspaces, autograd's first-use setup)

log = logging.getLogger(__name__)


def bucket(rows: int, length: int) -> tuple[int, int]:
    """The padded shape a graph is captured for."""
    return 1 << (rows - 1).bit_length(), -(-length // LENGTH_BUCKET) * LENGTH_BUCKET


@dataclass
class _Captured:
    graph: torch.cuda.CUDAGraph
    memory: torch.Tensor  # the static inputs the graph reads ...
    ids: torch.Tensor
    mask: torch.Tensor
    outputs: tuple[torch.Tensor, ...]  # ... and the static outputs it writes: loss, correct, count[, grad]


class WriteGraphs:
    """Captured passes for one WRITE backbone; `pass_for(backbone, skip_tokens)` gives a WritePass.

    Args:
        pad_id: the token id padding positions hold (masked; any id works).
    """

    def __init__(self, pad_id: int = 0) -> None:
        self.pad_id = pad_id
        self.captures = 0  # graphs captured so far (tests, benchmarks)
        self.failure: str | None = None  # why capturing failed: from then on the passes run eagerly
        self._graphs: dict[tuple, _Captured] = {}
        self._backbone: Backbone | None = None
        self._pool = None
        self._lock = threading.Lock()

    def pass_for(self, backbone: Backbone, skip_tokens: int) -> WritePass:
        eager = eager_pass(backbone, skip_tokens)

        def run(memory, ids, mask, padded, needs_grad):
            if self.failure is None:
                try:
                    return self.run(backbone, skip_tokens, memory, ids, mask, needs_grad)
                except RuntimeError as exc:  # a model whose pass cannot be captured still writes, eagerly
                    self.failure = f"{type(exc).__name__}: {exc}"
                    log.warning("WRITE passes run eagerly: capturing a CUDA graph failed (%s)", self.failure)
            return eager(memory, ids, mask, padded, needs_grad)

        return run

    def run(self, backbone: Backbone, skip_tokens: int, memory: torch.Tensor, ids: torch.Tensor, mask: torch.Tensor,
            needs_grad: bool) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor | None]:
        rows, length = ids.shape
        shape = bucket(rows, length)
        key = (*shape, memory.shape[1], needs_grad, skip_tokens)
        with self._lock:  # static buffers: one pass at a time
            if backbone is not self._backbone:  # a re-merged model: old graphs point at freed weights
                self._graphs.clear()
                self._backbone = backbone
            captured = self._graphs.get(key)
            if captured is None:
                captured = self._capture(backbone, skip_tokens, shape, memory, ids, mask, needs_grad)
                self._graphs[key] = captured
            else:
                self._load(captured, memory, ids, mask)
                captured.graph.replay()
            outputs = tuple(t[:rows].clone() for t in captured.outputs)
        return (*outputs, None) if not needs_grad else outputs

    def _load(self, captured: _Captured, memory: torch.Tensor, ids: torch.Tensor, mask: torch.Tensor) -> None:
        rows, length = ids.shape
        with torch.no_grad():
            captured.memory[:rows].copy_(memory)
            captured.memory[rows:].zero_()
            captured.ids.fill_(self.pad_id)
            captured.ids[:rows, :length].copy_(ids)
            captured.mask.zero_()
            captured.mask[:rows, :length].copy_(mask)

    def _capture(self, backbone: Backbone, skip_tokens: int, shape: tuple[int, int], memory: torch.Tensor,
                 ids: torch.Tensor, mask: torch.Tensor, needs_grad: bool) -> _Captured:
        device = backbone.device
        static = _Captured(
            graph=torch.cuda.CUDAGraph(),
            memory=torch.zeros(shape[0], *memory.shape[1:], device=device, dtype=memory.dtype,
                               requires_grad=needs_grad),
            ids=torch.empty(shape, dtype=ids.dtype, device=device),
            mask=torch.empty(shape, dtype=mask.dtype, device=device),
            outputs=(),
        )
        self._load(static, memory, ids, mask)

        def step() -> tuple[torch.Tensor, ...]:
            with torch.set_grad_enabled(needs_grad):
                loss, correct, count = backbone.reconstruction(static.memory, static.ids, static.mask, padded=True,
                                                               skip_tokens=skip_tokens)
                if not needs_grad:
                    return loss, correct, count
                (grad,) = torch.autograd.grad(torch.where(torch.isfinite(loss), loss, 0.0).sum(), static.memory)
            return loss.detach(), correct, count, grad

        side = torch.cuda.Stream(device)
        side.wait_stream(torch.cuda.current_stream(device))
        with torch.cuda.stream(side):
            for _ in range(WARMUP_RUNS):
                step()
        torch.cuda.current_stream(device).wait_stream(side)
        with torch.cuda.graph(static.graph, pool=self._pool):
            static.outputs = step()
        self._pool = self._pool or static.graph.pool()
        static.graph.replay()  # capture records the kernels without running them
        self.captures += 1
        log.debug("captured a WRITE graph for %s", shape)
        return static
