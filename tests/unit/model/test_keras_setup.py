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
