"""Trials left RUNNING by a process that is gone: found, failed with their kind, and retried.

Other processes may be searching the same study (workers, other machines), so a RUNNING trial is failed
only when its process is known to be dead: its heartbeat is older than the grace period (``stale_heartbeat``),
it names a worker on this machine whose process no longer exists, or the supervisor saw that worker die.
A trial that names no worker is unclaimed: its process lost the storage between creating it and writing its
name (a database outage), so it is an orphan once it is older than the storage's grace period, the longest
a live process retries that first write.
Optuna has no public call that fails another process's trial; the storage API used here is stable across
its versions.
"""

from __future__ import annotations

import datetime
import os
import socket
from pathlib import Path
from typing import TYPE_CHECKING, Any

from automl.exceptions import UserError
from automl.outcomes import FailureKind

if TYPE_CHECKING:
    import optuna

__all__ = [
    "RetryTrial",
    "fail_orphaned_trials",
    "fail_silent_trials",
    "fail_trials_of",
    "process_alive",
    "retry_trial",
    "trial_retries",
    "worker_alive",
]


def fail_trials_of(
    study: optuna.Study, worker: str, kind: FailureKind, message: str, *, retry: bool = False
) -> list[int]:
    """Fail the RUNNING trials that ``worker`` (``host:pid``) recorded; returns their numbers.

    With ``retry`` each failed config is enqueued again, once (as for a stale heartbeat).
    """
    import optuna

    failed = []
    for trial in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,)):
        if trial.user_attrs.get("worker") != worker:
            continue
        if _fail(study, trial, kind, message, retry=retry):
            failed.append(trial.number)
    return failed


def fail_silent_trials(study: optuna.Study, reason: str, *, retry: bool = False) -> list[int]:
    """Fail, as ``stale_heartbeat``, the RUNNING trials whose heartbeat is older than the storage's grace
    period; returns their numbers (none when the storage keeps no heartbeats).

    Optuna's own check (``optuna.storages.fail_stale_trials``) fails them without a message and retries
    each through the storage's callback; this one records ``reason`` and the silence, and retries only
    with ``retry`` (a backend that proposes from elsewhere, such as KerasTuner's oracle, must not).
    """
    storage: Any = study._storage  # a heartbeat storage (Optuna's RDB) has no public type
    interval = storage.get_heartbeat_interval() if hasattr(storage, "record_heartbeat") else None
    if interval is None:
        return []
    grace = getattr(getattr(storage, "_backend", storage), "grace_period", None) or 2 * interval  # Optuna's
    failed = []
    for trial_id in storage._get_stale_trial_ids(study._study_id):
        trial = storage.get_trial(trial_id)
        message = f"{reason} (no heartbeat for over {grace} s)"
        if _fail(study, trial, FailureKind.STALE_HEARTBEAT, message, retry=retry):
            failed.append(trial.number)
    return failed


def fail_orphaned_trials(study: optuna.Study, *, local: bool, retry: bool) -> int:
    """Fail every RUNNING trial whose process is gone (see the module doc); returns how many.

    ``local``: the storage is the run's own SQLite file, where a RUNNING trial that names no worker
    (written before workers recorded themselves) is an orphan at once; in a shared storage, once it is
    older than the storage's grace period. ``retry``: a backend whose proposals come from the study
    retries each config once.
    """
    import optuna

    from automl.store._retry import storage_grace

    # Not Optuna's fail_stale_trials: it retries through the storage's callback whatever the backend (a
    # KerasTuner trial's copy would wait forever: its oracle proposes, not the study).
    count = len(fail_silent_trials(study, "its process went silent", retry=retry))
    unclaimed_since = datetime.datetime.now() - datetime.timedelta(seconds=0 if local else storage_grace())
    for trial in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,)):
        worker = trial.user_attrs.get("worker")
        if worker is not None and not worker_alive(str(worker)):
            count += _fail(study, trial, FailureKind.INTERRUPTED, "its process ended mid-trial", retry=retry)
        elif worker is None and (local or _started_before(trial, unclaimed_since)):
            message = "its process ended before it recorded itself (the storage was lost)"
            count += _fail(study, trial, FailureKind.INTERRUPTED, message, retry=retry)
    return count


def _started_before(trial: optuna.trial.FrozenTrial, moment: datetime.datetime) -> bool:
    # Optuna stamps datetime_start with the local time of the process that started the trial.
    return trial.datetime_start is not None and trial.datetime_start < moment


def _fail(
    study: optuna.Study, trial: optuna.trial.FrozenTrial, kind: FailureKind, message: str, *, retry: bool
) -> bool:
    """Fail ``trial``; False when another process ended it first (its heartbeat check, a replacement
    worker's resume): that process recorded it, and retried it where it should."""
    import optuna

    storage = study._storage
    try:
        storage.set_trial_user_attr(trial._trial_id, "failure", f"{_label(kind)}: {message}")
        storage.set_trial_user_attr(trial._trial_id, "failure_kind", kind.value)
        if not storage.set_trial_state_values(trial._trial_id, optuna.trial.TrialState.FAIL):
            return False
    except optuna.exceptions.UpdateFinishedTrialError:
        return False
    if retry:
        retry_trial(study, storage.get_trial(trial._trial_id))
    return True


def retry_trial(study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
    """Enqueue ``trial``'s config again (see :class:`RetryTrial`)."""
    RetryTrial()(study, trial)


#: how many times a trial whose process died (or was stopped) is tried again: preempted nodes kill a long
#: trial more than once, and each retry resumes from its checkpoint. ``AUTOML_TRIAL_RETRIES`` sets another.
TRIAL_RETRIES = 3
RETRIES_VARIABLE = "AUTOML_TRIAL_RETRIES"


def trial_retries() -> int:
    """How many retries a trial gets for its process's death or stop (``AUTOML_TRIAL_RETRIES``, else 3)."""
    import os

    text = os.environ.get(RETRIES_VARIABLE, "").strip()
    if not text:
        return TRIAL_RETRIES
    if not text.isdigit():
        raise UserError(f"{RETRIES_VARIABLE}={text!r}: give how many times a trial is retried, e.g. 3")
    return int(text)


class RetryTrial:
    """Enqueue a failed trial's config again, up to :func:`trial_retries` times for one original trial.

    As Optuna's ``RetryHeartbeatStaleTrialCallback`` records it (``failed_trial``: the original trial's
    number, ``retry_history``: every try's), so a retry knows the trial it continues (its checkpoint and
    seed). Unlike Optuna's, the failed try's user attributes (its record: failure, worker, history) are
    not copied: the retry writes its own. The storage calls it for a trial whose heartbeat went stale.
    """

    def __init__(self, max_retry: int | None = None) -> None:
        self.max_retry = trial_retries() if max_retry is None else max_retry

    def __call__(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        import optuna

        history = [*trial.system_attrs.get("retry_history", []), trial.number]
        if len(history) > self.max_retry:
            return
        study.add_trial(
            optuna.trial.create_trial(
                state=optuna.trial.TrialState.WAITING,
                params=trial.params,
                distributions=trial.distributions,
                system_attrs={
                    "failed_trial": trial.system_attrs.get("failed_trial", trial.number),
                    "retry_history": history,
                },
            )
        )


def _label(kind: FailureKind) -> str:
    """How a message names its kind: ``worker died``, as people read it, else the kind's value."""
    return "worker died" if kind is FailureKind.WORKER_DIED else kind.value


def worker_alive(worker: str) -> bool:
    """Whether the process ``host:pid`` may still run (True for another machine's: only it can tell)."""
    host, _, pid = worker.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return True
    return process_alive(int(pid))


def process_alive(pid: int) -> bool:
    """Whether process ``pid`` of this machine runs. A zombie does not: it holds no memory or device, only
    its exit status, and its parent may be an init that never reaps (a container without one)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:  # no /proc (not Linux): the signal's answer stands; else it ended just now
        return not Path("/proc").is_dir()
    return stat.rpartition(")")[2].split()[0] not in ("Z", "X")
