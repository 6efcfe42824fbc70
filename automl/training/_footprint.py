"""A model's footprint where it is deployed: its saved size and its prediction latency per row.

Two numbers a deployment asks of a model besides its score, measured at no extra training:

* ``size_bytes``: the ``.keras`` file of the model alone, its layers' config and weights, as
  ``model.save`` writes it (a ZIP archive stored uncompressed, so the size follows the weights' shapes, not
  their values). The optimizer's state is left out: it is what training needs, not prediction, and it
  would make a config trained with Adam three times the size of the same network trained with SGD.
* ``latency_ms`` and ``latency_ms_256``: milliseconds per row through ``predict_on_batch`` (the compiled
  predict path a deployed Keras model serves by, on every backend), one row alone and in a batch of 256,
  NumPy rows in and out (the transfer to and from the device included); each the median of a few timed
  calls after an untimed warm-up call per batch size (tracing on TensorFlow, compiling on JAX).

The search measures each completed trial in its own process right after training (the device and the
neighbours it trained with: other workers may be training at the same time), with
:func:`measure_footprint`. :func:`footprint_of` measures a config without training it (a model built from
it: the values of its weights change neither number), for measuring configs again in one quiet process.

Keras is imported on first use: the module itself imports no TensorFlow.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from automl.datasets import Dataset

__all__ = ["FOOTPRINT_SECONDS", "Footprint", "footprint_of", "latency_note", "measure_footprint"]

#: seconds the timed calls of one measurement may take (the warm-up calls come on top).
FOOTPRINT_SECONDS = 1.0
#: timed calls per batch size at most: their median ignores up to 5 calls that another worker's burst
#: slowed, and 11 calls cost a few milliseconds on a small model.
_RUNS = 11
_BATCH = 256


@dataclass(frozen=True)
class Footprint:
    """A model's saved size and prediction latency (see the module doc for how each is measured).

    Attributes:
        size_bytes: Bytes of the model's ``.keras`` file, without optimizer state.
        latency_ms: Milliseconds to predict one row alone (batch 1).
        latency_ms_256: Milliseconds per row when 256 rows are predicted at once (the batch's time / 256).
    """

    size_bytes: int
    latency_ms: float
    latency_ms_256: float


def latency_note(workers: int | Iterable[int]) -> str:
    """How a run's latencies were measured, for its manifest: ``workers`` is how many worker processes
    searched at once (several counts for an experiment whose studies had different numbers)."""
    counts = sorted({workers} if isinstance(workers, int) else set(workers))
    low, high = counts[0], counts[-1]
    many = str(low) if low == high else f"{low} to {high}"
    return (
        f"in each trial's process on its device, right after training, with {many} "
        f"worker{'s' if high > 1 else ''} searching at once"
    )


def _saved_size(model: Any) -> int:
    """Bytes of the ``.keras`` file of ``model`` without its optimizer: a functional model over the same
    layers (no copy of the weights, nothing compiled) saved to a temporary folder, then deleted."""
    from automl._keras import keras

    bare = keras.Model(model.inputs, model.outputs, name=model.name)
    with tempfile.TemporaryDirectory(prefix="automl-footprint-") as folder:
        path = os.path.join(folder, "model.keras")
        bare.save(path)
        return os.path.getsize(path)


def _rows(dataset: Dataset) -> tuple[np.ndarray, np.ndarray]:
    """One row, and 256 rows, of the validation split (the training rows if it has none); the rows repeat
    in order to make 256 when there are fewer. Float32, as training feeds them (images may be stored as
    bytes), so the cast is not timed: a deployment's preprocessing does it."""
    x = np.asarray(dataset.x_val if len(dataset.x_val) else dataset.x_train)
    if len(x) == 0:
        raise ValueError(f"dataset {dataset.name!r} has no rows to time the model's predictions on")
    batch = np.asarray(x[np.arange(_BATCH) % len(x)], dtype=np.float32)
    return batch[:1].copy(), batch


def measure_footprint(model: Any, dataset: Dataset, *, seconds: float = FOOTPRINT_SECONDS) -> Footprint:
    """The :class:`Footprint` of a built Keras model of ``dataset``, timed on its validation rows.

    ``seconds`` caps the timed calls: after one warm-up call per batch size, pairs of calls (one row, then
    256 rows, so a neighbour's load falls on both alike) are timed until 11 pairs or ``seconds`` have
    passed, whichever comes first (at least one pair).

    Raises:
        ValueError: the dataset has no rows.
        Exception: whatever Keras raises saving or predicting (a model that is not functional, a full
            temporary folder); the search logs it and records no footprint.
    """
    one, batch = _rows(dataset)
    size = _saved_size(model)
    predict = model.predict_on_batch
    predict(one)
    predict(batch)
    alone: list[float] = []
    batched: list[float] = []
    stop = time.perf_counter() + max(seconds, 0.0)
    while len(alone) < _RUNS:
        start = time.perf_counter()
        predict(one)
        middle = time.perf_counter()
        predict(batch)
        end = time.perf_counter()
        alone.append(middle - start)
        batched.append(end - middle)
        if end >= stop:
            break
    return Footprint(
        size_bytes=int(size),
        latency_ms=1e3 * statistics.median(alone),
        latency_ms_256=1e3 * statistics.median(batched) / _BATCH,
    )


def footprint_of(
    config: Mapping[str, Any],
    dataset: Dataset,
    *,
    family: str | None = None,
    seconds: float = FOOTPRINT_SECONDS,
) -> Footprint:
    """The :class:`Footprint` of ``config`` on ``dataset`` without training: the model built as a trial
    builds it (after ``clear_session()``, as :func:`automl.train` does), timed as :func:`measure_footprint`
    times it.

    Measure in a process set up as the search's workers were (the same Keras backend, device, threads
    and precision: :func:`automl._keras.configure_process`), so the numbers compare with the trials'.

    Raises:
        ConfigError: a config the builders reject.
        Exception: as :func:`measure_footprint`.
    """
    from automl._keras import clear_session
    from automl.model import build_model

    clear_session()
    return measure_footprint(build_model(config, dataset, family=family), dataset, seconds=seconds)
