"""Retraining the best configs on train + validation, one evaluation on the held-out test split.

:mod:`._policy` retrains a study's top configs (the policy is in its docstring) within the time
:mod:`._time` allows, in the order :mod:`._pick` chooses (best score, or smallest / fastest within a
tolerance), re-ranked first by a second seed where asked (:mod:`._rescore`), an ensemble's members
chosen by what they add where asked (:mod:`._select`), and :mod:`._report` is what it reports;
:mod:`._run` retrains a run from its directory;
:mod:`._predictor` is what users receive: a :class:`Predictor` on raw rows.
"""

from automl.retrain._pick import Picked, check_pick, pick_configs, quiet_for
from automl.retrain._policy import (
    BAGGED_ENSEMBLE_SIZE,
    ENSEMBLE_SIZE,
    deploy_plan,
    policy_of,
    retrain_study,
    top_configs,
)
from automl.retrain._predictor import Predictor, load_model
from automl.retrain._report import DatasetRetrain, RetrainedConfig, SeedRun
from automl.retrain._rescore import Rescored, check_rescore
from automl.retrain._run import retrain_run
from automl.retrain._select import Selection, check_selection
from automl.retrain._time import search_budget

__all__ = [
    "BAGGED_ENSEMBLE_SIZE",
    "ENSEMBLE_SIZE",
    "DatasetRetrain",
    "Picked",
    "Predictor",
    "Rescored",
    "RetrainedConfig",
    "SeedRun",
    "Selection",
    "check_pick",
    "check_rescore",
    "check_selection",
    "deploy_plan",
    "load_model",
    "pick_configs",
    "policy_of",
    "quiet_for",
    "retrain_run",
    "retrain_study",
    "search_budget",
    "top_configs",
]
