"""The engine: one study searched under one budget, whichever backend proposes the configs.

:class:`Session` is the protocol a backend is typed against (its docstring says how to write a
backend); :class:`Budget` says how much to search; :class:`TrialRunner` trains one config into a trial record;
:class:`SearchSession` counts the budget, failures and progress around the runner; :mod:`._studies`
opens, resumes and searches a study for :class:`automl.AutoMLSearch` and :class:`automl.Experiment`.
"""

from automl.engine._devices import Gpu, Slot, discover_gpus, parse_devices, plan_slots
from automl.engine._progress import NullProgress, Progress, ProgressState
from automl.engine._protocol import ReservedTrial, Session, Trainer
from automl.engine._runner import ReportHook, TrialOutcome, TrialRunner
from automl.engine._session import Budget, SearchSession
from automl.engine._studies import (
    check_family,
    check_same_search,
    choose_folds,
    open_study,
    resolve_dataset,
    run_session,
)
from automl.engine._supervisor import Chief, Supervisor

__all__ = [
    "Budget",
    "Chief",
    "Gpu",
    "NullProgress",
    "Progress",
    "ProgressState",
    "ReportHook",
    "ReservedTrial",
    "SearchSession",
    "Session",
    "Slot",
    "Supervisor",
    "Trainer",
    "TrialOutcome",
    "TrialRunner",
    "check_family",
    "check_same_search",
    "choose_folds",
    "discover_gpus",
    "open_study",
    "parse_devices",
    "plan_slots",
    "resolve_dataset",
    "run_session",
]
