"""PyTorch's part of :mod:`automl._keras`: its thread pools, its GPU memory and out-of-memory errors.

Imported by :mod:`automl._keras` before Keras when the backend is PyTorch, never on its own.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch

__all__ = [
    "MAX_STEPS_PER_EXECUTION",
    "configure_threads",
    "enable_memory_growth",
    "gpu_compute_capabilities",
    "is_out_of_memory_error",
    "limit_gpu_memory",
    "out_of_memory_error",
    "traced_gradients_released",
]

#: Keras's PyTorch trainer runs one batch per step (it refuses ``steps_per_execution`` > 1).
MAX_STEPS_PER_EXECUTION: int | None = 1


def configure_threads(intra_op: int | None = None, inter_op: int | None = None) -> None:
    """Pin PyTorch's thread pools (``None`` leaves a pool at PyTorch's default).

    Raises:
        RuntimeError: PyTorch has already run parallel work (its inter-op pool is then fixed).
    """
    for name, value in (("intra_op", intra_op), ("inter_op", inter_op)):
        if value is not None and value < 1:
            raise ValueError(f"{name} threads must be >= 1, got {value}")
    if intra_op is not None and torch.get_num_threads() != intra_op:
        torch.set_num_threads(int(intra_op))
    if inter_op is not None and torch.get_num_interop_threads() != inter_op:
        try:
            torch.set_num_interop_threads(int(inter_op))
        except RuntimeError as exc:
            raise RuntimeError(
                f"cannot set inter_op threads to {inter_op}: PyTorch has already run parallel work "
                f"(call configure_threads at process start): {exc}"
            ) from None


def _gpu_indices() -> list[int]:
    return list(range(torch.cuda.device_count())) if torch.cuda.is_available() else []


def enable_memory_growth() -> list[str]:
    """PyTorch's caching allocator already takes GPU memory as needed; return the GPUs' names."""
    return [f"GPU:{index}" for index in _gpu_indices()]


def limit_gpu_memory(megabytes: int) -> list[str]:
    """Cap this process's allocations on every visible GPU at ``megabytes``."""
    for index in _gpu_indices():
        total = torch.cuda.get_device_properties(index).total_memory / 2**20
        torch.cuda.set_per_process_memory_fraction(min(int(megabytes) / total, 1.0), index)
    return enable_memory_growth()


def gpu_compute_capabilities() -> dict[str, tuple[int, int]]:
    return {f"GPU:{index}": tuple(torch.cuda.get_device_capability(index)) for index in _gpu_indices()}


def is_out_of_memory_error(error: BaseException) -> bool:
    """PyTorch's GPU out-of-memory error, or its CPU allocator's failure (a plain RuntimeError)."""
    if isinstance(error, torch.OutOfMemoryError):
        return True
    return isinstance(error, RuntimeError) and "can't allocate memory" in str(error)


def out_of_memory_error() -> BaseException:
    return torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 1.00 GiB")


@contextlib.contextmanager
def traced_gradients_released() -> Iterator[None]:
    """Nothing to release: PyTorch records gradients per tensor, not in a process-wide registry."""
    yield
