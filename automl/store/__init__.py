"""The store: trial records and study facts in an Optuna storage, and the run directory.

No TensorFlow here: leaderboards and reports read a run through this package alone.
"""

from automl.store._front import front_objectives, measure_of, pareto_front, remeasured_configs
from automl.store._manifest_io import (
    manifest_from_storage,
    open_run,
    read_manifest,
    study_space,
    write_manifest,
)
from automl.store._numbering import finish_reserved_trial, reserve_trial, trial_seed, write_trial_results
from automl.store._orphans import (
    RetryTrial,
    fail_orphaned_trials,
    fail_silent_trials,
    fail_trials_of,
    process_alive,
    retry_trial,
    trial_retries,
    worker_alive,
)
from automl.store._pick import PICK_FORMS, Pick, parse_pick
from automl.store._policy import RetrainPolicy, RetrainPolicyError
from automl.store._provenance import Environment, environment_info, file_sha256, split_files
from automl.store._quiet import QUIET_ATTR, QuietFootprint, load_quiet, read_quiet, record_quiet
from automl.store._records import (
    SCHEMA_VERSION,
    StudyInfo,
    TrialRecord,
    TrialState,
    best_first,
    failure_kind_of,
    load_records,
    load_study_info,
    over_limit,
    search_seconds,
    study_name,
)
from automl.store._reload import reload_dataset
from automl.store._run_dir import RunDir, prepare_run_dir, resolve_run_path
from automl.store._schema import (
    MANIFEST_ATTR,
    MANIFEST_VERSION,
    BackendEntry,
    BudgetEntry,
    DatasetEntry,
    RunManifest,
    SpaceEntry,
)
from automl.store._stop import STOP_ATTR, SearchStopped, clear_stop, load_stop, read_stop, record_stop
from automl.store._storage import HEARTBEAT_INTERVAL, mask_password, open_storage, storage_url_for

__all__ = [
    "HEARTBEAT_INTERVAL",
    "MANIFEST_ATTR",
    "MANIFEST_VERSION",
    "PICK_FORMS",
    "QUIET_ATTR",
    "SCHEMA_VERSION",
    "STOP_ATTR",
    "BackendEntry",
    "BudgetEntry",
    "DatasetEntry",
    "Environment",
    "Pick",
    "QuietFootprint",
    "RetrainPolicy",
    "RetrainPolicyError",
    "RetryTrial",
    "RunDir",
    "RunManifest",
    "SearchStopped",
    "SpaceEntry",
    "StudyInfo",
    "TrialRecord",
    "TrialState",
    "best_first",
    "clear_stop",
    "environment_info",
    "fail_orphaned_trials",
    "fail_silent_trials",
    "fail_trials_of",
    "failure_kind_of",
    "file_sha256",
    "finish_reserved_trial",
    "front_objectives",
    "load_quiet",
    "load_records",
    "load_stop",
    "load_study_info",
    "manifest_from_storage",
    "mask_password",
    "measure_of",
    "open_run",
    "open_storage",
    "over_limit",
    "pareto_front",
    "parse_pick",
    "prepare_run_dir",
    "process_alive",
    "read_manifest",
    "read_quiet",
    "read_stop",
    "record_quiet",
    "record_stop",
    "reload_dataset",
    "remeasured_configs",
    "reserve_trial",
    "resolve_run_path",
    "retry_trial",
    "search_seconds",
    "split_files",
    "storage_url_for",
    "study_name",
    "study_space",
    "trial_retries",
    "trial_seed",
    "worker_alive",
    "write_manifest",
    "write_trial_results",
]
