"""Experiments: datasets × spaces searched under one budget, compared across datasets and retrained."""

from automl.experiment._config import (
    BudgetSpec,
    DatasetSpec,
    ExperimentConfig,
    RetrainSpec,
    parse_experiment,
)
from automl.experiment._experiment import Experiment, split_trials

__all__ = [
    "BudgetSpec",
    "DatasetSpec",
    "Experiment",
    "ExperimentConfig",
    "RetrainSpec",
    "parse_experiment",
    "split_trials",
]
