"""Training: :func:`train`, the one fit loop of trials, Hyperband rounds and retraining; :func:`predict`;
a model's :class:`Footprint` (saved size, prediction latency) after training or from its config alone,
and :func:`remeasure_front`: a study's fronts measured again in one quiet process after its search.

:class:`TrainResult`, :class:`StopReason`, :class:`TrialCheckpoint` and the footprint's functions import
without TensorFlow (they load Keras when they measure); ``train``,
``predict`` and the chunking of predictions (``rows_per_chunk``) import it on first use (through
:mod:`automl._keras`).
"""

from __future__ import annotations

import importlib
from typing import Any

from automl.training._checkpoint import CHECKPOINT_EVERY_SECONDS, TrialCheckpoint
from automl.training._footprint import (
    FOOTPRINT_SECONDS,
    Footprint,
    footprint_of,
    latency_note,
    measure_footprint,
)
from automl.training._remeasure import remeasure_front
from automl.training._result import StopReason, TrainResult

__all__ = [
    "CHECKPOINT_EVERY_SECONDS",
    "FOOTPRINT_SECONDS",
    "PREDICT_BYTES",
    "Footprint",
    "StopReason",
    "TrainResult",
    "TrialCheckpoint",
    "activations_per_row",
    "footprint_of",
    "latency_note",
    "measure_footprint",
    "predict",
    "remeasure_front",
    "rows_per_chunk",
    "train",
]

_LAZY = {"train", "predict", "activations_per_row", "rows_per_chunk", "PREDICT_BYTES"}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'automl.training' has no attribute {name!r}")
    value = getattr(importlib.import_module("automl.training._train"), name)
    globals()[name] = value
    return value
