"""Memory vectors <-> safetensors bytes (one tensor named "vectors")."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .errors import CorruptBlockError

if TYPE_CHECKING:
    import torch

TENSOR_NAME = "vectors"


def dtype_name(dtype: torch.dtype) -> str:
    """'float32' for torch.float32."""
    return str(dtype).removeprefix("torch.")


def encode_vectors(vectors: torch.Tensor) -> tuple[bytes, str, list[int]]:
    """Serialise to (safetensors bytes, dtype name, shape)."""
    import torch
    from safetensors.torch import save

    if not isinstance(vectors, torch.Tensor):
        raise TypeError(f"vectors must be a torch.Tensor, got {type(vectors).__name__}")
    tensor = vectors.detach().cpu().contiguous()
    if tensor.is_floating_point() and not bool(tensor.isfinite().all()):
        raise ValueError("vectors hold NaN or infinite values; a block of them cannot be read")
    return save({TENSOR_NAME: tensor}), dtype_name(tensor.dtype), list(tensor.shape)


def decode_vectors(blob: bytes, *, dtype: str, shape: list[int], session_id: str, block_id: int) -> torch.Tensor:
    """Inverse of encode_vectors; CorruptBlockError if the blob or its columns disagree."""
    from safetensors.torch import load

    try:
        tensors = load(bytes(blob))
    except Exception as exc:  # safetensors raises several unrelated types for bad input
        raise CorruptBlockError(session_id, block_id, f"unreadable safetensors data ({exc})") from exc
    if set(tensors) != {TENSOR_NAME}:
        raise CorruptBlockError(
            session_id, block_id, f"expected one tensor named {TENSOR_NAME!r}, found {sorted(tensors)}"
        )
    tensor = tensors[TENSOR_NAME]
    if tensor.is_floating_point() and not bool(tensor.isfinite().all()):
        raise CorruptBlockError(session_id, block_id, "the stored vectors hold NaN or infinite values")
    if dtype_name(tensor.dtype) != dtype or list(tensor.shape) != list(shape):
        raise CorruptBlockError(
            session_id,
            block_id,
            f"stored tensor is {dtype_name(tensor.dtype)} {list(tensor.shape)}, "
            f"but the block's columns say {dtype} {list(shape)}",
        )
    return tensor
