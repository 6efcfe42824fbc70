"""The one place that imports Keras, on the backend chosen for this process, and sets that process up.

The backend is TensorFlow unless ``KERAS_BACKEND`` says ``jax`` or ``torch`` when this module is first
imported (see :mod:`automl.keras_backend`, which sets it from ``--keras-backend`` and a run's manifest).
Each backend has one module here for what Keras leaves to it (thread pools, GPU memory, its out-of-memory
error); nothing else in automl imports TensorFlow, JAX or PyTorch for training. Every other module gets
Keras from here::

    from automl._keras import keras

Process set-up is explicit and belongs to whoever owns the process (a worker slot, the CLI, a test):

* :func:`configure_threads` pins the backend's CPU thread pools; it must run before the backend runs its
  first op (a :class:`RuntimeError` says so otherwise).
* :func:`enable_memory_growth` makes each visible GPU allocate memory as needed, so several trials can
  share one GPU; it must run before the GPUs are initialised. A no-op without GPUs.
* :func:`set_precision` picks ``mixed_float16`` on GPUs of compute capability 7.0 or more and leaves
  ``float32`` everywhere else (a no-op on CPU, where float16 is slower, not faster).
"""

from __future__ import annotations

import gc
import importlib
import logging
import os
import sys
from typing import Any, Literal

from automl.keras_backend import chosen_keras_backend

#: The Keras backend this process trains on ("tensorflow", "jax" or "torch").
BACKEND = chosen_keras_backend()
# Keras reads its backend once, at first import: only then can we choose it.
if "keras" not in sys.modules:
    os.environ["KERAS_BACKEND"] = BACKEND

_backend = importlib.import_module(f"automl._keras._{BACKEND}")

import keras  # noqa: E402

if keras.backend.backend() != BACKEND:
    raise ImportError(
        f"automl trains on the Keras {BACKEND!r} backend, but Keras was imported with "
        f"{keras.backend.backend()!r}: import automl before keras, or set KERAS_BACKEND={BACKEND}"
    )

__all__ = [
    "BACKEND",
    "MAX_STEPS_PER_EXECUTION",
    "allowed_steps_per_execution",
    "clear_session",
    "configure_process",
    "configure_threads",
    "enable_memory_growth",
    "gpu_compute_capabilities",
    "is_out_of_memory",
    "keras",
    "limit_gpu_memory",
    "out_of_memory_error",
    "set_precision",
    "set_seed",
    "traced_gradients_released",
]

Precision = Literal["auto", "float32", "mixed_float16"]
_MIXED_MIN_CAPABILITY = (7, 0)  # tensor cores: Volta and newer; older GPUs run float16 slower

#: Batches one compiled step may run on this backend (None: any number).
MAX_STEPS_PER_EXECUTION: int | None = _backend.MAX_STEPS_PER_EXECUTION
enable_memory_growth = _backend.enable_memory_growth
limit_gpu_memory = _backend.limit_gpu_memory
gpu_compute_capabilities = _backend.gpu_compute_capabilities
traced_gradients_released = _backend.traced_gradients_released


def __getattr__(name: str) -> Any:
    if name == "tf":  # the TensorFlow module, for the pieces that only exist there (tf.data)
        if BACKEND != "tensorflow":
            raise ImportError(f"TensorFlow is not this process's Keras backend ({BACKEND!r})")
        return _backend.tf
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def configure_threads(intra_op: int | None = None, inter_op: int | None = None) -> None:
    """Pin the backend's thread pools for a CPU slot (``None`` leaves a pool at the backend's default).

    On CPU several single-threaded processes beat one process with several threads, so a worker of a
    CPU slot calls this first with its share of the cores.

    Raises:
        ValueError: a count below 1.
        RuntimeError: the backend has already run an op with other thread settings (they are then fixed
            for the life of the process).
    """
    _backend.configure_threads(intra_op, inter_op)


def allowed_steps_per_execution(wanted: int) -> int:
    """``wanted`` batches per compiled step, as many as this backend allows."""
    limit = MAX_STEPS_PER_EXECUTION
    return wanted if limit is None else min(wanted, limit)


def set_precision(precision: Precision = "auto") -> str:
    """Set Keras's global dtype policy and return the policy in force.

    ``"auto"`` and ``"mixed_float16"`` both give ``mixed_float16`` only when every visible GPU has compute
    capability >= 7.0, and ``float32`` otherwise (CPU included): asking for mixed precision where it
    would slow training down is not an error, it is ignored. ``"float32"`` always gives ``float32``.
    Models built afterwards keep their output layer in float32 (see :mod:`automl.model`).
    """
    if precision not in ("auto", "float32", "mixed_float16"):
        raise ValueError(f"precision must be 'auto', 'float32' or 'mixed_float16', got {precision!r}")
    policy = "float32"
    if precision != "float32":
        capabilities = gpu_compute_capabilities()
        if capabilities and all(c >= _MIXED_MIN_CAPABILITY for c in capabilities.values()):
            policy = "mixed_float16"
    keras.mixed_precision.set_global_policy(policy)
    return policy


def set_seed(seed: int) -> None:
    """Seed Python, NumPy, the backend and Keras's global generator (same seed, same CPU run)."""
    keras.utils.set_random_seed(int(seed))


def clear_session() -> None:
    """Drop Keras's global state (layer names, graphs) and collect garbage, before building a new model."""
    keras.backend.clear_session(free_memory=False)
    gc.collect()


def is_out_of_memory(error: BaseException) -> bool:
    """Whether ``error`` (or an error it was raised from) is the backend's out-of-memory error."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if _backend.is_out_of_memory_error(current):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


def out_of_memory_error() -> BaseException:
    """The error this backend raises when an allocation fails, as it raises it (for tests and stand-ins
    that need a real one without filling a device)."""
    return _backend.out_of_memory_error()


def configure_process(
    *, threads: int | None = None, precision: Precision = "auto", memory_limit_mb: int | None = None
) -> str:
    """Set this process up for training; return its device, e.g. ``"cpu"`` or ``"gpu:0 (mixed_float16)"``.

    Memory growth (or, with ``memory_limit_mb``, a hard cap for workers sharing a GPU) and the precision
    policy are always set; ``threads`` pins the backend's intra-op pool (and one inter-op thread) for a
    CPU slot, and is skipped with a log line when the backend has already started (a search run inside
    a process that trained before keeps its pools). Threads come first: on JAX both they and the memory
    settings are read when the devices start, which looking for GPUs does.
    """
    log = logging.getLogger("automl")
    if threads is not None:
        try:
            configure_threads(threads, 1)
        except RuntimeError as exc:
            log.info("%s", exc)
    gpus: list[str] = []
    try:
        gpus = enable_memory_growth() if memory_limit_mb is None else limit_gpu_memory(memory_limit_mb)
    except RuntimeError as exc:
        log.info("%s", exc)
    policy = set_precision(precision)
    if not gpus:
        return "cpu"
    names = ",".join(name.rsplit(":", 1)[-1] for name in gpus)
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    where = f"gpu:{visible}" if visible else f"gpu:{names}"
    return f"{where} ({policy})"
