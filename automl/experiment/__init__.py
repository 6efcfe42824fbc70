"""Experiments: datasets × spaces searched under one budget, compared across datasets and retrained.

An experiment file's ``budget:`` and ``retrain:`` parse into the records the run's manifest keeps,
:class:`automl.store.BudgetEntry` and :class:`automl.store.RetrainPolicy`.
"""

from automl.experiment._config import DatasetSpec, ExperimentConfig, parse_experiment
from automl.experiment._experiment import Experiment, split_trials

__all__ = ["DatasetSpec", "Experiment", "ExperimentConfig", "parse_experiment", "split_trials"]
