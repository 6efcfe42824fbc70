"""Training: :func:`train`, the one fit loop of trials, Hyperband rounds and retraining; :func:`predict`.

:class:`TrainResult`, :class:`StopReason` and :class:`TrialCheckpoint` import without TensorFlow; ``train``,
``predict`` and the chunking of predictions (``rows_per_chunk``) import it on first use (through
:mod:`automl._keras`).
"""

from __future__ import annotations

import importlib
from typing import Any

from automl.training._checkpoint import CHECKPOINT_EVERY_SECONDS, TrialCheckpoint
from automl.training._result import StopReason, TrainResult

__all__ = [
    "CHECKPOINT_EVERY_SECONDS",
    "PREDICT_BYTES",
    "StopReason",
    "TrainResult",
    "TrialCheckpoint",
    "activations_per_row",
    "predict",
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
