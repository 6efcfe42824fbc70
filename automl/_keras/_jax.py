"""JAX's part of :mod:`automl._keras`: XLA's threads and GPU memory (both environment variables read when
JAX starts its first device, so they are set before then), and XLA's out-of-memory error.

Imported by :mod:`automl._keras` before Keras when the backend is JAX, never on its own.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator

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

# By default JAX takes 75 % of a GPU's memory in the first process, and a second trial on the same GPU
# dies out of memory: allocate as needed instead (TensorFlow's memory growth). A user's setting wins.
os.environ.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")

import jax

MAX_STEPS_PER_EXECUTION: int | None = None


def _started() -> bool:
    """Whether JAX has already started its devices (its settings are fixed from then on)."""
    from jax._src import xla_bridge  # the check has no public handle

    check = getattr(xla_bridge, "backends_are_initialized", None)
    return bool(check()) if check is not None else bool(getattr(xla_bridge, "_backends", {}))


def _refuse_if_started(what: str) -> None:
    if _started():
        raise RuntimeError(f"cannot {what}: JAX has already started its devices (call it at process start)")


def configure_threads(intra_op: int | None = None, inter_op: int | None = None) -> None:
    """One thread for XLA's CPU work when ``intra_op`` is 1 (a CPU slot's single-threaded worker).

    XLA has no setting for a pool of N > 1 threads nor a separate inter-op pool: other counts leave its
    default (every core), and ``inter_op`` is ignored.

    Raises:
        RuntimeError: JAX has already started its devices.
    """
    for name, value in (("intra_op", intra_op), ("inter_op", inter_op)):
        if value is not None and value < 1:
            raise ValueError(f"{name} threads must be >= 1, got {value}")
    if intra_op != 1:
        return
    flags = os.environ.get("XLA_FLAGS", "")
    if "--xla_cpu_multi_thread_eigen=false" in flags:
        return
    _refuse_if_started(f"set XLA's threads to {intra_op}")
    os.environ["XLA_FLAGS"] = f"{flags} --xla_cpu_multi_thread_eigen=false".strip()


def _gpus() -> list[jax.Device]:
    return [device for device in jax.devices() if device.platform == "gpu"]


def enable_memory_growth() -> list[str]:
    """GPUs allocate as needed (set at import, unless the user chose otherwise); return their names."""
    return [f"GPU:{device.id}" for device in _gpus()]


def _total_gpu_megabytes() -> int | None:
    """The memory of this process's GPU: the first of ``CUDA_VISIBLE_DEVICES`` (a worker sees one; NVML
    numbers every GPU of the machine, so a UUID or an index is looked up as such)."""
    visible = os.environ.get("CUDA_VISIBLE_DEVICES", "").split(",")[0].strip()
    try:
        import pynvml  # nvidia-ml-py, in the gpu extra

        pynvml.nvmlInit()
        try:
            if visible.startswith(("GPU-", "MIG-")):
                handle = pynvml.nvmlDeviceGetHandleByUUID(visible)
            else:
                handle = pynvml.nvmlDeviceGetHandleByIndex(int(visible) if visible.isdigit() else 0)
            return int(pynvml.nvmlDeviceGetMemoryInfo(handle).total) // 2**20
        finally:
            pynvml.nvmlShutdown()
    except Exception:  # no bindings, no driver, an id NVML does not know: no cap to compute
        return None


def limit_gpu_memory(megabytes: int) -> list[str]:
    """Cap this process's share of its GPU at ``megabytes`` (as XLA's memory fraction of the whole GPU).

    Raises:
        RuntimeError: JAX has already started its devices.
    """
    _refuse_if_started(f"cap GPU memory at {megabytes} MB")
    total = _total_gpu_megabytes()
    if not total:
        logging.getLogger("automl").info("GPU memory left uncapped: its size is unknown without NVML")
    else:
        fraction = min(max(int(megabytes) / total, 0.01), 1.0)
        # The fraction caps XLA's allocator; with preallocation off it still grows only as needed.
        os.environ["XLA_PYTHON_CLIENT_MEM_FRACTION"] = f"{fraction:.3f}"
    return enable_memory_growth()


def gpu_compute_capabilities() -> dict[str, tuple[int, int]]:
    result: dict[str, tuple[int, int]] = {}
    for device in _gpus():
        capability = str(getattr(device, "compute_capability", "") or "")
        major, _, minor = capability.partition(".")
        if major.isdigit():
            result[f"GPU:{device.id}"] = (int(major), int(minor or 0))
    return result


def is_out_of_memory_error(error: BaseException) -> bool:
    """XLA reports an allocation that failed as a runtime error whose message starts RESOURCE_EXHAUSTED."""
    return isinstance(error, jax.errors.JaxRuntimeError) and "RESOURCE_EXHAUSTED" in str(error)


def out_of_memory_error() -> BaseException:
    return jax.errors.JaxRuntimeError("RESOURCE_EXHAUSTED: Out of memory while trying to allocate 1.0GiB")


@contextlib.contextmanager
def traced_gradients_released() -> Iterator[None]:
    """Nothing to release: JAX keeps no process-wide registry of traced gradients."""
    yield
