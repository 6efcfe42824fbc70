"""TensorFlow's part of :mod:`automl._keras`: thread pools, GPU memory, out-of-memory errors, and the
gradient registry a long-lived worker must prune.

Imported by :mod:`automl._keras` before Keras when the backend is TensorFlow, never on its own.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator

__all__ = [
    "MAX_STEPS_PER_EXECUTION",
    "configure_threads",
    "enable_memory_growth",
    "gpu_compute_capabilities",
    "is_out_of_memory_error",
    "limit_gpu_memory",
    "tf",
    "traced_gradients_released",
]

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

#: Batches one compiled step may run (None: no limit of the backend's).
MAX_STEPS_PER_EXECUTION: int | None = None


@contextlib.contextmanager
def native_stderr_muted() -> Iterator[None]:
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


# TensorFlow's C++ start-up lines (oneDNN notice, "no CUDA driver") are printed before it reads
# TF_CPP_MIN_LOG_LEVEL, so it is imported with the native stderr muted. Python errors still propagate,
# and ``AUTOML_TF_LOGS=1`` shows everything. Still printed, and not ours to silence: two ``I0000`` lines
# written at import, before its logging starts.
with native_stderr_muted():
    import tensorflow as tf

# Retracing notices name Keras internals, not anything a user can act on.
tf.get_logger().setLevel("ERROR")

#: TensorFlow's out-of-memory error (raised by an allocation on any device).
OutOfMemoryError = tf.errors.ResourceExhaustedError


def is_out_of_memory_error(error: BaseException) -> bool:
    return isinstance(error, OutOfMemoryError)


def out_of_memory_error() -> BaseException:
    return OutOfMemoryError(None, None, "OOM when allocating tensor")


def configure_threads(intra_op: int | None = None, inter_op: int | None = None) -> None:
    """Pin TensorFlow's thread pools (``None`` leaves a pool at TensorFlow's default).

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
        with native_stderr_muted():
            return list(tf.config.list_physical_devices("GPU"))
    return list(tf.config.list_physical_devices("GPU"))


def enable_memory_growth() -> list[str]:
    """Turn on memory growth for every visible GPU; return their names (empty on CPU-only machines).

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
    """Cap this process's memory on every visible GPU (a cap and memory growth exclude each other in
    TensorFlow, so this replaces growth).

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
    result: dict[str, tuple[int, int]] = {}
    for gpu in _gpus():
        details = tf.config.experimental.get_device_details(gpu)
        capability = details.get("compute_capability")
        if capability:
            result[gpu.name] = (int(capability[0]), int(capability[1]))
    return result


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
