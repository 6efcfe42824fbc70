"""Training: :func:`train`, the one fit loop of trials, Hyperband rounds and retraining; :func:`predict`.

Importing this package imports TensorFlow (through :mod:`automl._keras`).
"""

from automl.training._train import StopReason, TrainResult, predict, train

__all__ = ["StopReason", "TrainResult", "predict", "train"]
