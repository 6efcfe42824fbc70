"""Models from configurations: ``build_model``, learning-rate schedules, parameter and memory counts.

The pure parts (:func:`count_params`, :func:`estimate_memory`, :func:`learning_rate_at`, :func:`plan`,
:func:`plan_for`) import no TensorFlow; :func:`build_model` and the Keras helpers load it on first use.
"""

from __future__ import annotations

import importlib
from typing import Any

from automl.model._architecture import Architecture, LayerSpec, count_params, estimate_memory, plan, plan_for
from automl.model._config import DEFAULT_STEPS_PER_EXECUTION, infer_family, integer
from automl.model._schedules import learning_rate_at

__all__ = [
    "DEFAULT_STEPS_PER_EXECUTION",
    "Architecture",
    "EpochLearningRate",
    "LayerSpec",
    "build_model",
    "compile_for_task",
    "count_params",
    "estimate_memory",
    "infer_family",
    "integer",
    "learning_rate_at",
    "make_optimizer",
    "plan",
    "plan_for",
    "schedule_callbacks",
]

_LAZY = {
    "build_model": "automl.model._builder",
    "compile_for_task": "automl.model._builder",
    "make_optimizer": "automl.model._builder",
    "EpochLearningRate": "automl.model._callbacks",
    "schedule_callbacks": "automl.model._callbacks",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'automl.model' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
