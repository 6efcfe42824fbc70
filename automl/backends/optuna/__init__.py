"""The Optuna backend; the only package that drives Optuna's samplers and pruners."""

from automl.backends.optuna._backend import OptunaBackend

__all__ = ["OptunaBackend"]
