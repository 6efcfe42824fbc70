"""The engine: one study opened and searched under one budget in this process, whichever backend proposes
the configs.

:class:`Session` is the protocol a backend is typed against (its docstring says how to write a backend);
:class:`Budget` says how much to search; :class:`TrialRunner` trains one config into a trial record;
:class:`SearchSession` counts the budget, failures and progress around the runner; :func:`open_study`
creates or reopens a study and :func:`run_session` searches it here. Worker processes, their supervisor and
launching a search live above the backends, in :mod:`automl.workers`.
"""

from automl.engine._budget import Budget
from automl.engine._open import check_family, choose_folds, open_study
from automl.engine._progress import NullProgress, Progress, ProgressState, best_score
from automl.engine._protocol import ReservedTrial, Session, Trainer
from automl.engine._run import CHECKPOINT_DIR_VARIABLE, checkpoint_folder, run_session
from automl.engine._runner import ReportHook, TrialOutcome, TrialRunner
from automl.engine._session import SearchSession
from automl.engine._spec import (
    EXIT_DISK_FULL,
    EXIT_FATAL,
    EXIT_INTERRUPTED,
    EXIT_NOTHING_LEFT,
    EXIT_STORAGE_UNAVAILABLE,
    EXIT_USER_ERROR,
    PARENT_VARIABLE,
    SPEC_VARIABLE,
    WorkerSpec,
    follow_parent,
    load_trainer,
)
from automl.engine._stall import STALL_TOLERANCE, parse_stop_stalled

__all__ = [
    "CHECKPOINT_DIR_VARIABLE",
    "EXIT_DISK_FULL",
    "EXIT_FATAL",
    "EXIT_INTERRUPTED",
    "EXIT_NOTHING_LEFT",
    "EXIT_STORAGE_UNAVAILABLE",
    "EXIT_USER_ERROR",
    "PARENT_VARIABLE",
    "SPEC_VARIABLE",
    "STALL_TOLERANCE",
    "Budget",
    "NullProgress",
    "Progress",
    "ProgressState",
    "ReportHook",
    "ReservedTrial",
    "SearchSession",
    "Session",
    "Trainer",
    "TrialOutcome",
    "TrialRunner",
    "WorkerSpec",
    "best_score",
    "check_family",
    "checkpoint_folder",
    "choose_folds",
    "follow_parent",
    "load_trainer",
    "open_study",
    "parse_stop_stalled",
    "run_session",
]
