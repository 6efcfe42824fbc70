"""automl._keras: process set-up that must be harmless on a CPU-only machine, on whichever Keras backend
the suite runs (TensorFlow unless KERAS_BACKEND says otherwise: CI's backend tier runs JAX)."""

from __future__ import annotations

import os

import pytest

from automl import _keras

tensorflow_only = pytest.mark.skipif(_keras.BACKEND != "tensorflow", reason="TensorFlow's thread pools")


def test_backend_is_the_one_chosen() -> None:
    assert (os.environ.get("KERAS_BACKEND") or "tensorflow") == _keras.BACKEND
    assert _keras.keras.backend.backend() == _keras.BACKEND


def test_gpu_helpers_are_no_ops_without_gpus() -> None:
    if _keras.enable_memory_growth():
        pytest.skip("a GPU is visible")
    assert _keras.gpu_compute_capabilities() == {}


@pytest.mark.parametrize("asked", ["auto", "mixed_float16", "float32"])
def test_precision_stays_float32_on_cpu(asked) -> None:
    if _keras.enable_memory_growth():
        pytest.skip("a GPU is visible")
    try:
        assert _keras.set_precision(asked) == "float32"
        assert _keras.keras.mixed_precision.global_policy().name == "float32"
    finally:
        _keras.keras.mixed_precision.set_global_policy("float32")
    with pytest.raises(ValueError, match="precision"):
        _keras.set_precision("bfloat8")  # type: ignore[arg-type]


@tensorflow_only
def test_configure_threads_with_current_values_is_a_no_op() -> None:
    threading = _keras.tf.config.threading
    before = (threading.get_intra_op_parallelism_threads(), threading.get_inter_op_parallelism_threads())
    _keras.configure_threads(*before)  # would raise RuntimeError if it tried to set an initialised pool
    _keras.configure_threads()
    after = (threading.get_intra_op_parallelism_threads(), threading.get_inter_op_parallelism_threads())
    assert after == before
    with pytest.raises(ValueError, match=r"^intra_op threads must be >= 1, got -1$"):
        _keras.configure_threads(intra_op=-1)
    with pytest.raises(ValueError, match=r"^inter_op threads must be >= 1, got -2$"):
        _keras.configure_threads(inter_op=-2)
    assert (
        threading.get_intra_op_parallelism_threads(),
        threading.get_inter_op_parallelism_threads(),
    ) == before


def test_thread_counts_below_one_are_refused_on_every_backend() -> None:
    with pytest.raises(ValueError, match=r"^intra_op threads must be >= 1, got -1$"):
        _keras.configure_threads(intra_op=-1)
    with pytest.raises(ValueError, match=r"^inter_op threads must be >= 1, got -2$"):
        _keras.configure_threads(inter_op=-2)


def test_out_of_memory_is_recognised_directly_and_through_a_chain() -> None:
    oom = _keras.out_of_memory_error()
    assert _keras.is_out_of_memory(oom)
    try:
        try:
            raise oom
        except Exception as inner:
            raise RuntimeError("wrapped") from inner
    except RuntimeError as outer:
        assert _keras.is_out_of_memory(outer)
    assert not _keras.is_out_of_memory(ValueError("x"))


@pytest.mark.skipif(_keras.BACKEND != "jax", reason="XLA's thread flag")
def test_one_xla_thread_is_set_before_jax_starts_and_refused_once_it_has():
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "XLA_FLAGS"}
    before = (
        "import os; from automl import _keras; _keras.configure_threads(1, 1); import jax; jax.devices(); "
        "print(os.environ['XLA_FLAGS'])"
    )
    done = subprocess.run(
        [sys.executable, "-c", before], capture_output=True, text=True, env=env, timeout=120
    )
    assert done.stdout.strip().splitlines()[-1] == "--xla_cpu_multi_thread_eigen=false", done.stderr
    after = (
        "from automl import _keras; import jax; jax.devices()\n"
        "try:\n    _keras.configure_threads(1)\nexcept RuntimeError as e:\n    print(e)"
    )
    done = subprocess.run([sys.executable, "-c", after], capture_output=True, text=True, env=env, timeout=120)
    assert "JAX has already started its devices" in done.stdout, done.stderr
