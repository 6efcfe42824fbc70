"""Retraining the best configs on train + validation, one evaluation on the held-out test split.

:mod:`._policy` retrains a study's top configs (the policy is in its docstring); :mod:`._run` retrains a
run from its directory; :mod:`._predictor` is what users receive: a :class:`Predictor` on raw rows.
"""

from automl.retrain._policy import (
    ENSEMBLE_SIZE,
    DatasetRetrain,
    RetrainedConfig,
    SeedRun,
    deploy_plan,
    policy_of,
    retrain_study,
    top_configs,
)
from automl.retrain._predictor import Predictor, load_model
from automl.retrain._run import retrain_run

__all__ = [
    "ENSEMBLE_SIZE",
    "DatasetRetrain",
    "Predictor",
    "RetrainedConfig",
    "SeedRun",
    "deploy_plan",
    "load_model",
    "policy_of",
    "retrain_run",
    "retrain_study",
    "top_configs",
]
