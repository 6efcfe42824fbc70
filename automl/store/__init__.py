"""The store: trial records and study facts in an Optuna storage, and the run directory.

No TensorFlow here: leaderboards and reports read a run through this package alone.
"""

from automl.store._records import (
    SCHEMA_VERSION,
    StoppedBy,
    StudyInfo,
    TrialRecord,
    TrialState,
    best_first,
    load_records,
    load_study_info,
    mask_password,
    open_storage,
    storage_url_for,
    study_name,
)
from automl.store._run_dir import RunDir, environment_info, prepare_run_dir, resolve_run_path

__all__ = [
    "SCHEMA_VERSION",
    "RunDir",
    "StoppedBy",
    "StudyInfo",
    "TrialRecord",
    "TrialState",
    "best_first",
    "environment_info",
    "load_records",
    "load_study_info",
    "mask_password",
    "open_storage",
    "prepare_run_dir",
    "resolve_run_path",
    "storage_url_for",
    "study_name",
]
