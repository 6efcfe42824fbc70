"""The one place that imports Keras and TensorFlow, and sets up the process they run in.

Importing this module pins Keras to the TensorFlow backend and quiets TensorFlow's C++ logging (both
through environment variables, which only work *before* the first import). Every other module gets Keras
from here::

    from automl._keras import keras, tf

Process set-up is explicit and belongs to whoever owns the process (a worker slot, the CLI, a test):

* :func:`configure_threads` pins TensorFlow's thread pools; it must run before TensorFlow executes
  its first op (a :class:`RuntimeError` says so otherwise).
* :func:`enable_memory_growth` makes each visible GPU allocate memory as needed, so several trials can
  share one GPU; it must run before the GPUs are initialised. A no-op without GPUs.
* :func:`set_precision` picks ``mixed_float16`` on GPUs of compute capability 7.0 or more and leaves
  ``float32`` everywhere else (a no-op on CPU, where float16 is slower, not faster).

Still printed, and not ours to silence: two ``I0000`` lines that TensorFlow writes to stderr at import,
before its logging reads ``TF_CPP_MIN_LOG_LEVEL``.
"""

from __future__ import annotations

import contextlib
import gc
import os
import shutil
import sys
from collections.abc import Iterator
from typing import Literal

# Keras reads its backend once, at first import: only then can we choose it.
if "keras" not in sys.modules:
    os.environ["KERAS_BACKEND"] = "tensorflow"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


@contextlib.contextmanager
def _native_stderr_muted() -> Iterator[None]:
    """File descriptor 2 sent to /dev/null: TensorFlow's C++ lines bypass Python's ``sys.stderr``."""
    if os.environ.get("AUTOML_TF_LOGS") == "1":
        yield
        return
    try:
        saved = os.dup(2)
    except OSError:
        yield
        return
    try:
        with open(os.devnull, "wb") as devnull:
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def _import_quietly() -> None:
    """Import TensorFlow with the native stderr muted: its C++ start-up lines (oneDNN notice, "no CUDA
    driver") are printed before it reads TF_CPP_MIN_LOG_LEVEL. Python errors still propagate, and
    ``AUTOML_TF_LOGS=1`` shows everything."""
    if "tensorflow" in sys.modules:
        return
    with _native_stderr_muted():
        import tensorflow  # noqa: F401


_import_quietly()

import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

# Retracing notices name Keras internals, not anything a user can act on.
tf.get_logger().setLevel("ERROR")

if keras.backend.backend() != "tensorflow":
    raise ImportError(
        f"automl needs the Keras TensorFlow backend, but Keras was imported with {keras.backend.backend()!r}:"
        " import automl before keras, or set KERAS_BACKEND=tensorflow"
    )

__all__ = [
    "OutOfMemoryError",
    "clear_session",
    "configure_process",
    "configure_threads",
    "enable_memory_growth",
    "gpu_compute_capabilities",
    "is_out_of_memory",
    "keras",
    "limit_gpu_memory",
    "set_precision",
    "set_seed",
    "tf",
    "traced_gradients_released",
]

#: TensorFlow's out-of-memory error (raised by an allocation on any device).
OutOfMemoryError = tf.errors.ResourceExhaustedError

Precision = Literal["auto", "float32", "mixed_float16"]
_MIXED_MIN_CAPABILITY = (7, 0)  # tensor cores: Volta and newer; older GPUs run float16 slower


def configure_threads(intra_op: int | None = None, inter_op: int | None = None) -> None:
    """Pin TensorFlow's thread pools for a CPU slot (``None`` leaves a pool at TensorFlow's default).

    On CPU several single-threaded processes beat one process with several threads, so a worker of a
    CPU slot calls this first with its share of the cores.

    Raises:
        RuntimeError: TensorFlow has already run an op with other thread settings (they are then fixed
            for the life of the process).
    """
    wanted = {
        "intra_op": (
            intra_op,
            tf.config.threading.get_intra_op_parallelism_threads,
            tf.config.threading.set_intra_op_parallelism_threads,
        ),
        "inter_op": (
            inter_op,
            tf.config.threading.get_inter_op_parallelism_threads,
            tf.config.threading.set_inter_op_parallelism_threads,
        ),
    }
    for name, (value, getter, setter) in wanted.items():
        if value is None or getter() == value:
            continue
        if value < 1:
            raise ValueError(f"{name} threads must be >= 1, got {value}")
        try:
            setter(int(value))
        except RuntimeError as exc:
            raise RuntimeError(
                f"cannot set {name} threads to {value}: TensorFlow is already initialised "
                f"(call configure_threads at process start, before any model is built): {exc}"
            ) from None


def _no_nvidia_driver() -> bool:
    return shutil.which("nvidia-smi") is None and not os.path.exists("/proc/driver/nvidia")


def _gpus() -> list[tf.config.PhysicalDevice]:
    if _no_nvidia_driver():
        # Without a driver, the first look for GPUs prints "failed call to cuInit" from C++: noise on a
        # CPU machine. With a driver the same line reports a real problem, so it is left alone there.
        with _native_stderr_muted():
            return list(tf.config.list_physical_devices("GPU"))
    return list(tf.config.list_physical_devices("GPU"))


def enable_memory_growth() -> list[str]:
    """Turn on memory growth for every visible GPU; return their names (empty on CPU-only machines).

    Without it TensorFlow reserves nearly all of a GPU's memory in the first process, and a second trial
    on the same GPU dies out of memory.

    Raises:
        RuntimeError: a GPU was already initialised without memory growth.
    """
    names = []
    for gpu in _gpus():
        if not tf.config.experimental.get_memory_growth(gpu):
            try:
                tf.config.experimental.set_memory_growth(gpu, True)
            except RuntimeError as exc:
                raise RuntimeError(
                    f"cannot enable memory growth on {gpu.name}: the GPU is already initialised "
                    f"(call enable_memory_growth at process start): {exc}"
                ) from None
        names.append(gpu.name)
    return names


def limit_gpu_memory(megabytes: int) -> list[str]:
    """Cap this process's memory on every visible GPU at ``megabytes``; return the GPUs' names.

    For several workers sharing one GPU: memory growth alone lets the first one take what the others
    need. A cap and memory growth exclude each other in TensorFlow, so this replaces growth.

    Raises:
        RuntimeError: a GPU was already initialised.
    """
    names = []
    for gpu in _gpus():
        try:
            tf.config.set_logical_device_configuration(
                gpu, [tf.config.LogicalDeviceConfiguration(memory_limit=int(megabytes))]
            )
        except RuntimeError as exc:
            raise RuntimeError(
                f"cannot cap the memory of {gpu.name}: the GPU is already initialised "
                f"(call limit_gpu_memory at process start): {exc}"
            ) from None
        names.append(gpu.name)
    return names


if _no_nvidia_driver():
    _gpus()  # the one look that prints the cuInit line, done now, muted, before anything else looks


def gpu_compute_capabilities() -> dict[str, tuple[int, int]]:
    """Compute capability of each visible GPU by device name (empty without GPUs)."""
    result: dict[str, tuple[int, int]] = {}
    for gpu in _gpus():
        details = tf.config.experimental.get_device_details(gpu)
        capability = details.get("compute_capability")
        if capability:
            result[gpu.name] = (int(capability[0]), int(capability[1]))
    return result


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
    """Seed Python, NumPy, TensorFlow and Keras's global generator (same seed, same CPU run)."""
    keras.utils.set_random_seed(int(seed))


def clear_session() -> None:
    """Drop Keras's global state (layer names, graphs) and collect garbage, before building a new model."""
    keras.backend.clear_session(free_memory=False)
    gc.collect()


@contextlib.contextmanager
def traced_gradients_released() -> Iterator[None]:
    """Around one trial: forget the gradient functions TensorFlow registered while tracing its model.

    Keras's optimizer aggregates gradients through ``tf.distribute``'s all-reduce, a ``tf.custom_gradient``;
    each trace of a train step registers its gradient under a fresh name in TensorFlow's process-wide
    gradient registry, which is never pruned, and the entry holds the whole traced graph. That is the
    4–6 MB a model that a long-lived worker kept after ``clear_session()`` (``benchmarks/memory.py``).
    Only entries added inside the block go, and only once it ends: the trial's graphs are traced by
    then, and nothing differentiates them again. Not for models a caller keeps training by hand.
    """
    from tensorflow.python.framework import ops as tf_ops  # the registry has no public handle

    registry = getattr(getattr(tf_ops, "_gradient_registry", None), "_registry", None)
    if not isinstance(registry, dict):  # a TensorFlow that moved it: nothing to free
        yield
        return
    before = set(registry)
    try:
        yield
    finally:
        for name in [n for n in registry if n not in before and n.startswith("CustomGradient-")]:
            registry.pop(name, None)


def is_out_of_memory(error: BaseException) -> bool:
    """Whether ``error`` (or an error it was raised from) is TensorFlow's out-of-memory error."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if isinstance(current, OutOfMemoryError):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


def configure_process(
    *, threads: int | None = None, precision: Precision = "auto", memory_limit_mb: int | None = None
) -> str:
    """Set this process up for training; return its device, e.g. ``"cpu"`` or ``"gpu:0 (mixed_float16)"``.

    Memory growth (or, with ``memory_limit_mb``, a hard cap for workers sharing a GPU) and the precision
    policy are always set; ``threads`` pins TensorFlow's intra-op pool (and one inter-op thread) for a
    CPU slot, and is skipped with a log line when TensorFlow has already started (a search run inside a
    process that trained before keeps its pools).
    """
    import logging

    gpus = []
    try:
        gpus = enable_memory_growth() if memory_limit_mb is None else limit_gpu_memory(memory_limit_mb)
    except RuntimeError as exc:
        logging.getLogger("automl").info("%s", exc)
    if threads is not None:
        try:
            configure_threads(threads, 1)
        except RuntimeError as exc:
            logging.getLogger("automl").info("%s", exc)
    policy = set_precision(precision)
    if not gpus:
        return "cpu"
    names = ",".join(name.rsplit(":", 1)[-1] for name in gpus)
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    where = f"gpu:{visible}" if visible else f"gpu:{names}"
    return f"{where} ({policy})"
