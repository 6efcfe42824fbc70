"""Retraining the best configs on train + validation, one evaluation on the held-out test split.

:mod:`._policy` retrains a study's top configs (the policy is in its docstring) within the time
:mod:`._time` allows, and :mod:`._report` is what it reports; :mod:`._run` retrains a run from its
directory; :mod:`._predictor` is what users receive: a :class:`Predictor` on raw rows.
"""

from automl.retrain._policy import ENSEMBLE_SIZE, deploy_plan, policy_of, retrain_study, top_configs
from automl.retrain._predictor import Predictor, load_model
from automl.retrain._report import DatasetRetrain, RetrainedConfig, SeedRun
from automl.retrain._run import retrain_run
from automl.retrain._time import search_budget

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
    "search_budget",
    "top_configs",
]
