"""automl: hyperparameter search for Keras models, on KerasTuner or Optuna.

The public API is re-exported here; TensorFlow and the backends are imported only when used.
"""

from __future__ import annotations

import importlib
from typing import Any

from automl.exceptions import (
    AutoMLError,
    AutoMLWarning,
    ConfigError,
    DatasetError,
    DiskFull,
    FatalError,
    MissingDependency,
    SpaceError,
    StorageUnavailable,
    TrialFailed,
    Unavailable,
    UserError,
)
from automl.tasks import Task

__version__ = "0.1.0.dev0"

# name -> module that defines it; imported on first attribute access so `import automl` stays light.
_LAZY = {
    "SearchSpace": "automl.space",
    "load_space": "automl.space",
    "Int": "automl.space",
    "Float": "automl.space",
    "Choice": "automl.space",
    "Bool": "automl.space",
    "Fixed": "automl.space",
    "Dataset": "automl.datasets",
    "load_dataset": "automl.datasets",
    "list_datasets": "automl.datasets",
    "build_model": "automl.model",
    "count_params": "automl.model",
    "estimate_memory": "automl.model",
    "train": "automl.training",
    "Footprint": "automl.training",
    "footprint_of": "automl.training",
    "AutoMLSearch": "automl.search",
    "Experiment": "automl.experiment",
    "load_model": "automl.retrain",
    "Predictor": "automl.retrain",
    "TrainResult": "automl.training",
    "diagnose": "automl.report",
    "Diagnosis": "automl.report",
}

__all__ = [
    "AutoMLError",
    "AutoMLSearch",
    "AutoMLWarning",
    "Bool",
    "Choice",
    "ConfigError",
    "Dataset",
    "DatasetError",
    "Diagnosis",
    "DiskFull",
    "Experiment",
    "FatalError",
    "Fixed",
    "Float",
    "Footprint",
    "Int",
    "MissingDependency",
    "Predictor",
    "SearchSpace",
    "SpaceError",
    "StorageUnavailable",
    "Task",
    "TrainResult",
    "TrialFailed",
    "Unavailable",
    "UserError",
    "__version__",
    "build_model",
    "count_params",
    "diagnose",
    "estimate_memory",
    "footprint_of",
    "list_datasets",
    "load_dataset",
    "load_model",
    "load_space",
    "train",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'automl' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
