"""Joining a search from another machine: ``automl worker --storage URL --study NAME``.

A search on a shared storage (PostgreSQL) records everything a worker elsewhere needs in the storage
itself: the run manifest (space, dataset source, backend, budget) and the search's *window*, the
absolute deadline and start time of the search that is running now (:func:`record_window`, written by
the process that starts the search, again on resume). :func:`join` reads both, plans this machine's
device slots and supervises worker processes on them exactly as on the first machine; a joining worker
never gets a fresh timeout, and stops with everyone else once the study holds its trial budget.

KerasTuner proposes from the chief's oracle, not the study: workers join the chief the first machine
started (``--oracle HOST:PORT``). Hyperband continues trials from checkpoints in the KerasTuner project
folder, so across machines it needs that folder shared (``--shared-dir``, checked writable).
"""

from __future__ import annotations

import os
import socket
import tempfile
import time
import zlib
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from automl.exceptions import UserError

if TYPE_CHECKING:
    import optuna

    from automl.engine import Budget, Progress

__all__ = ["Window", "join", "joining_machine", "list_studies", "read_window", "record_window"]

_WINDOW = "automl.window"


@dataclass(frozen=True)
class Window:
    """When the running search of a study ends (``deadline``, a ``time.time()``) and began (``since``),
    and its trials' heartbeat interval, which every process of the study must share: a trial is failed
    when silent for four of the interval of the process that checks."""

    deadline: float | None
    since: str
    heartbeat_interval: int | None = None


def record_window(
    study: optuna.Study,
    budget: Budget,
    heartbeat_interval: int | None = None,
    *,
    started: float | None = None,
) -> Window:
    """Record the search's window under ``budget`` in the study, for workers that join later.

    ``started`` (``time.time()``, default now) is when the budget's clock started: a search's own
    set-up (loading data, baselines, the storage) is spent from its time budget too. The stop the last
    search recorded (:class:`automl.store.SearchStopped`) is cleared: this search decides its own.
    """
    from automl.store import clear_stop

    start = time.time() if started is None else started
    clear_stop(study)  # the last search's stop (stalled, failures) is not this one's
    window = Window(
        deadline=None if budget.timeout is None else start + budget.timeout,
        since=datetime.now().isoformat(),
        heartbeat_interval=heartbeat_interval,
    )
    study.set_user_attr(_WINDOW, asdict(window))
    return window


def read_window(study: optuna.Study) -> Window | None:
    data = study.user_attrs.get(_WINDOW)
    if not isinstance(data, dict):
        return None
    return Window(
        deadline=data.get("deadline"),
        since=str(data.get("since")),
        heartbeat_interval=data.get("heartbeat_interval"),
    )


def list_studies(storage: Any) -> list[dict[str, Any]]:
    """One row per study of ``storage``: name, dataset, space, backend, finished trials, best score."""
    import optuna

    from automl.store import load_study_info

    rows = []
    for summary in optuna.get_all_study_summaries(storage, include_best_trial=True):
        row: dict[str, Any] = {"study": summary.study_name, "trials": summary.n_trials}
        try:
            info = load_study_info(storage, summary.study_name)
        except UserError:
            row.update(dataset="?", space="?", backend="(not an automl study)")
        else:
            row.update(dataset=info.dataset, space=info.space, backend=f"{info.backend}/{info.algorithm}")
        best = summary.best_trial
        row["best"] = None if best is None else best.value
        window = summary.user_attrs.get(_WINDOW)
        deadline = window.get("deadline") if isinstance(window, dict) else None
        row["open"] = deadline is None or deadline > time.time()
        rows.append(row)
    return rows


def _shared_dir(path: Path) -> Path:
    path = Path(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path):
            pass
    except OSError as exc:
        raise UserError(
            f"--shared-dir {path} is not writable here ({exc.strerror}); mount it read-write"
        ) from None
    return path


def join(
    url: str,
    study_name: str,
    *,
    devices: Any = None,
    oracle: str | None = None,
    shared_dir: Path | None = None,
    log_dir: Path,
    recycle_after: int | None = None,
    progress: Progress | None = None,
    wait: float = 0.0,
    checkpoint_dir: Path | None = None,
) -> bool:
    """Work on study ``study_name`` of storage ``url`` from this machine until its search's budget is spent.

    ``wait`` seconds are given the study to appear (a batch job may start before the search). Returns
    False when there was nothing to join: the search is over (its deadline passed).

    ``checkpoint_dir``: where this machine's trials keep their checkpoints, a folder the search's other
    machines reach too (the first machine's ``checkpoint_dir`` as mounted here), so a trial retried
    anywhere resumes. None: ``AUTOML_CHECKPOINT_DIR`` where it is set, else none (this machine's trials
    keep no checkpoint, and one retried starts again).

    Raises:
        UserError: one line: no such study, a dataset this machine cannot load or whose data differ,
            a KerasTuner study without ``oracle``, Hyperband across machines without ``shared_dir``, a
            ``checkpoint_dir`` this machine cannot write.
    """
    import optuna

    from automl._logs import optuna_verbosity
    from automl.backends import recorded_backend
    from automl.engine import Budget
    from automl.keras_backend import resumed_keras_backend
    from automl.store import HEARTBEAT_INTERVAL, load_study_info, open_storage
    from automl.workers._chief import Chief
    from automl.workers._launch import writable_folder
    from automl.workers._slots import RECYCLE_AFTER, parse_devices, plan_slots
    from automl.workers._supervisor import Supervisor

    if checkpoint_dir is not None:
        checkpoint_dir = writable_folder(checkpoint_dir, "checkpoint_dir")
    storage = open_storage(url, heartbeat_interval=None)
    manifest = _wait_for_manifest(storage, study_name, wait)
    resumed_keras_backend(manifest.keras_backend, None)  # this machine and its workers train on the run's
    info = load_study_info(storage, study_name)
    backend = recorded_backend(manifest.backend, manifest.seed)
    chief = Chief.of(backend)
    run_dir: Path | None = None
    if chief is not None:
        if oracle is None:
            raise UserError(
                f"study {study_name!r} searches with {backend.name}, whose proposals come from the chief "
                "the first machine started: add --oracle HOST:PORT (that machine's `--oracle-port`)"
            )
        host, _, port = oracle.rpartition(":")
        if not host or not port.isdigit():
            raise UserError(f"--oracle: cannot read {oracle!r}; write HOST:PORT, e.g. 10.0.0.5:8000")
        chief = Chief(chief.module, connect=host, port=int(port), start=False)
        if backend.algorithm == "hyperband" and shared_dir is None:
            raise UserError(
                "hyperband continues trials from checkpoints in the KerasTuner project folder: across "
                "machines give --shared-dir, the first machine's run directory as mounted here"
            )
        if shared_dir is not None:
            run_dir = _shared_dir(shared_dir)
    elif oracle is not None:
        raise UserError(
            f"--oracle is for keras_tuner studies; {study_name!r} shares its study in the storage"
        )
    _check_data_here(manifest, info)
    with optuna_verbosity(optuna.logging.WARNING):
        study = optuna.load_study(study_name=study_name, storage=storage)
    window = read_window(study)
    deadline = None if window is None else window.deadline
    heartbeat_interval = (window and window.heartbeat_interval) or HEARTBEAT_INTERVAL
    if deadline is not None and deadline <= time.time():
        return False
    budget = Budget.of(
        manifest.budget, study=study_name, timeout=None if deadline is None else deadline - time.time()
    )
    slots = plan_slots(parse_devices(devices))
    storage = open_storage(url, heartbeat_interval=heartbeat_interval)
    with optuna_verbosity(optuna.logging.WARNING):
        study = optuna.load_study(study_name=study_name, storage=storage)
    Supervisor(
        study=study,
        info=info,
        url=url,
        slots=slots,
        budget=budget,
        run_dir=run_dir,
        log_dir=Path(log_dir),
        recycle_after=RECYCLE_AFTER if recycle_after is None else recycle_after,
        heartbeat_interval=heartbeat_interval,
        progress=progress,
        chief=chief,
        since=None if window is None else window.since,
        checkpoint_dir=checkpoint_dir,
        machine=joining_machine(),
    ).run()
    return True


def joining_machine(host: str | None = None, pid: int | None = None) -> int:
    """This joining process's machine number for its workers' sampler seeds (never 0, the first machine's):
    from its host name and process id, so two machines, or two ``automl worker`` commands on one machine,
    seed apart even when they start at once, before the study holds a trial that would move the seeds."""
    name = f"{host or socket.gethostname()}:{os.getpid() if pid is None else pid}"
    return zlib.crc32(name.encode()) % (1 << 20) + 1


def _wait_for_manifest(storage: Any, study_name: str, wait: float) -> Any:
    """The study's run manifest, once the study and its window exist (polled for ``wait`` seconds)."""
    import optuna

    from automl.store import manifest_from_storage

    ends = time.monotonic() + wait
    while True:
        try:
            manifest = manifest_from_storage(storage, study_name)
            study = optuna.load_study(study_name=study_name, storage=storage)
            if read_window(study) is not None or time.monotonic() >= ends:
                return manifest
        except UserError:
            if time.monotonic() >= ends:
                raise
        time.sleep(min(2.0, max(ends - time.monotonic(), 0.1)))


def _check_data_here(manifest: Any, info: Any) -> None:
    """The study's dataset loads on this machine and is the same data (its fingerprint)."""
    from automl.store import reload_dataset

    entry = manifest.dataset(info.dataset)
    try:
        dataset = reload_dataset(entry, manifest.seed)
    except UserError as exc:
        raise UserError(f"this machine cannot load dataset {entry.name!r} ({entry.source}): {exc}") from None
    if dataset.fingerprint != info.dataset_fingerprint:
        raise UserError(
            f"dataset {entry.name!r} ({entry.source}) differs on this machine from the one the search "
            f"uses (fingerprint {dataset.fingerprint} here, {info.dataset_fingerprint} there): give this "
            "machine the same file"
        )
