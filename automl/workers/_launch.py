"""Launching a search: the one path :class:`automl.AutoMLSearch` and :class:`automl.Experiment` share.

Three steps, each one function: :func:`prepare_run` makes the run directory and opens its storage (a
resumed run's manifest read back); :func:`prepare_study` opens one study in it (created with its baselines,
or reopened to resume) and enqueues its warm start; :func:`run_study` records the study's window (its
deadline and start, for workers joining from other machines) and searches it, in this process or by the
worker processes of a :class:`~automl.workers.Supervisor` (with the backend's chief where it needs one).
What travels from the second to the third is one typed record, :class:`StudyLaunch`.

The time budget's clock starts when the caller's call started (``started``): loading data, baselines and
the storage are spent from it too, in this process and in every worker, which get the same absolute
deadline.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from automl.engine import Budget, load_trainer, open_study, run_session
from automl.exceptions import Argument, UserError
from automl.store import (
    HEARTBEAT_INTERVAL,
    RunDir,
    RunManifest,
    StudyInfo,
    mask_password,
    open_storage,
    prepare_run_dir,
    read_manifest,
    resolve_run_path,
    storage_url_for,
    study_name,
)
from automl.workers._chief import Chief
from automl.workers._join import record_window
from automl.workers._slots import RECYCLE_AFTER, Slot, in_process
from automl.workers._supervisor import Supervisor

if TYPE_CHECKING:
    import optuna

    from automl.datasets import Dataset
    from automl.engine import Progress
    from automl.space import SearchSpace

__all__ = [
    "PreparedRun",
    "StudyLaunch",
    "check_same_search",
    "prepare_run",
    "prepare_study",
    "run_study",
    "writable_folder",
]

log = logging.getLogger("automl.launch")


@dataclass(frozen=True)
class PreparedRun:
    """A run directory with its storage open.

    ``local``: the storage is the run's own SQLite file (every RUNNING trial in it is an orphan of a dead
    process). ``previous``: the manifest of the run being resumed, None for a new run. ``checkpoint_dir``:
    the folder of the trials' checkpoints the user chose (see :func:`prepare_run`), None for the default.
    """

    run: RunDir
    url: str
    storage: Any
    local: bool
    previous: RunManifest | None = None
    checkpoint_dir: Path | None = None

    @property
    def path(self) -> Path:
        return self.run.path

    def storage_label(self) -> str:
        """How the manifest names the storage: ``sqlite``, or the URL with its password masked."""
        return "sqlite" if self.local else mask_password(self.url)


@dataclass(frozen=True)
class StudyLaunch:
    """One opened study and everything searching it needs."""

    name: str
    study: optuna.Study
    info: StudyInfo
    space: SearchSpace
    dataset: Dataset
    budget: Budget


def prepare_run(
    *,
    name: str | None,
    run_dir: str | Path | None,
    default_name: str,
    storage: str | None,
    resume: bool,
    overwrite: bool,
    kind: str,
    heartbeat_interval: int = HEARTBEAT_INTERVAL,
    checkpoint_dir: str | Path | None = None,
) -> PreparedRun:
    """The run directory (created, or checked for ``resume`` / ``overwrite``) and its storage.

    ``checkpoint_dir``: where the trials keep their checkpoints (made absolute, and created); a resumed run
    keeps the folder it recorded unless another is given. None (and none recorded): the workers'
    ``AUTOML_CHECKPOINT_DIR``, else the run directory's ``checkpoints/``.

    Raises:
        UserError: the run exists without ``resume``/``overwrite``, ``resume`` of a run of another
            ``kind`` (a search resumed as an experiment, or the other way round), or a ``checkpoint_dir``
            that cannot be written.
    """
    chosen = None if checkpoint_dir is None else writable_folder(checkpoint_dir, "checkpoint_dir")
    path = resolve_run_path(name=name, run_dir=run_dir, default_name=default_name)
    run = prepare_run_dir(path, resume=resume, overwrite=overwrite)
    previous = read_manifest(run) if resume and run.has_manifest else None
    if previous is not None and previous.kind != kind:
        how = "automl search" if previous.kind == "search" else "automl run"
        raise UserError(f"{run.path} holds {_a(previous.kind)}, not {_a(kind)}; resume it with {how}")
    if chosen is None and previous is not None and previous.checkpoint_dir is not None:
        chosen = Path(previous.checkpoint_dir)  # where its interrupted trials saved: they resume from there
    url = storage_url_for(run.path, storage)
    opened = open_storage(url, heartbeat_interval=heartbeat_interval)
    return PreparedRun(run, url, opened, storage in (None, "", "sqlite"), previous, chosen)


def writable_folder(path: str | Path, argument: str) -> Path:
    """``path`` made absolute, created if missing, and written to once.

    Raises:
        UserError: the folder cannot be created or written, naming ``argument`` (a flag at the command line).
    """
    folder = Path(path).expanduser().resolve()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder):
            pass
    except OSError as exc:
        raise UserError(
            "{argument} {folder} cannot be written here ({reason}); give a folder this machine can write",
            argument=Argument(argument),
            folder=str(folder),
            reason=exc.strerror or type(exc).__name__,
        ) from None
    return folder


def _a(kind: str) -> str:
    return "a single search" if kind == "search" else "an experiment"


def prepare_study(
    prepared: PreparedRun,
    *,
    dataset: Dataset,
    space: SearchSpace,
    backend: Any,
    metric: Any,
    budget: Budget,
    seed: int,
    resume: bool,
    cv: int | str | None,
    warm: Any = None,
    objectives: Sequence[str] | None = None,
) -> StudyLaunch:
    """Open the study of (``dataset``, ``space``) in the run and enqueue its warm start ``warm`` (a plan
    from :func:`automl.warmstart.plan_warm_start`; None for none).

    Raises:
        UserError: see :func:`automl.engine.open_study`.
    """
    from automl.warmstart import warm_start_study

    name = study_name(prepared.path.name, dataset.name, space.name, backend.name, backend.algorithm)
    study, info = open_study(
        prepared.storage, name, space=space, dataset=dataset, metric=metric.name, direction=metric.direction,
        backend=backend, seed=seed, resume=resume, local=prepared.local, cv=cv,
        timed=budget.timeout is not None, objectives=objectives,
    )  # fmt: skip
    if warm is not None:
        warm_start_study(
            study, backend, space, warm, dataset=dataset.name, fingerprint=dataset.fingerprint,
            n_trials=budget.trials,
        )  # fmt: skip
    return StudyLaunch(name, study, info, space, dataset, budget)


def run_study(
    launch: StudyLaunch,
    backend: Any,
    *,
    prepared: PreparedRun,
    slots: list[Slot],
    seed: int,
    started: float,
    progress: Progress | None = None,
    recycle_after: int | None = RECYCLE_AFTER,
    heartbeat_interval: int = HEARTBEAT_INTERVAL,
    oracle_port: int | None = None,
    reloadable: bool = True,
    trainer: str | None = None,
) -> None:
    """Search ``launch``'s study until its budget is spent, its clock started at ``started``
    (``time.time()``).

    In this process when the slots say so (and no chief must listen for other machines), else by one
    worker process per slot. The workers read the dataset from one file written here and memory-mapped by
    each (``workers/dataset.joblib``); ``reloadable``: the dataset can be loaded again from the run's
    manifest, so the file is removed when the search ends (data from Python objects keeps it).
    ``trainer``: ``module:name`` of a stand-in for :func:`automl.train` (tests).

    Raises:
        FatalError: too many failures in a row (finished trials kept).
        UserError: a worker refused the search.
        KeyboardInterrupt: after the search stopped cleanly.
    """
    window = record_window(launch.study, launch.budget, heartbeat_interval, started=started)
    if in_process(slots) and oracle_port is None:
        run_session(
            backend, launch.study, launch.info, launch.space, launch.dataset, launch.budget, seed=seed,
            progress=progress, run_dir=prepared.path, deadline=window.deadline,
            trainer=None if trainer is None else load_trainer(trainer),
            checkpoint_dir=prepared.checkpoint_dir,
        )  # fmt: skip
        _measure_front_again(launch, prepared, trainer)
        return
    # The workers on this machine share one copy of the dataset, written once and memory-mapped by each
    # (reloadable or not): N workers cost one dataset, not N, and none loads or preprocesses it again.
    # Workers joining from other machines reload it from the manifest (hence ``reloadable``).
    from automl._diskspace import writing
    from automl.datasets import share_dataset

    with writing(prepared.path / "workers"):  # a full disk: DiskFull naming the folder, as every run write
        dataset_file = share_dataset(launch.dataset, prepared.path / "workers" / "dataset.joblib")
    address = {} if oracle_port is None else {"bind": "0.0.0.0", "port": oracle_port}
    try:
        Supervisor(
            study=launch.study, info=launch.info, url=prepared.url, slots=slots, budget=launch.budget,
            run_dir=prepared.path, recycle_after=recycle_after, heartbeat_interval=heartbeat_interval,
            dataset_file=dataset_file, progress=progress, chief=Chief.of(backend, **address),
            since=window.since, deadline=window.deadline, trainer=trainer,
            checkpoint_dir=prepared.checkpoint_dir,
        ).run()  # fmt: skip
    finally:
        if reloadable:
            dataset_file.unlink(missing_ok=True)  # the run can load it again; only a Python object's stays
    _measure_front_again(launch, prepared, trainer)


def _measure_front_again(launch: StudyLaunch, prepared: PreparedRun, trainer: str | None) -> None:
    """A search for latency ends by timing its front again here, one config after another, with its
    workers gone: the trials' own latencies were taken beside other workers' training. Never fails the
    search (the trials' numbers stand, with a warning)."""
    if trainer is not None or "latency" not in launch.info.objectives:
        return
    from automl.training import remeasure_front

    try:
        remeasure_front(prepared.storage, launch.name, launch.dataset, launch.space)
    except Exception as exc:
        log.warning("the front's latencies were not measured again: %s", exc)


def check_same_search(previous: RunManifest, dataset: str, space: str, backend: Any) -> None:
    """A resumed run continues its own study: the dataset, space and backend must be the run's."""
    before = previous.backend
    was = f"{before.name}/{before.algorithm}"
    now = f"{backend.name}/{backend.algorithm}"
    if was != now:
        raise UserError(
            "{resume} with another backend or algorithm: the run was searched with {was}, not {now}; "
            "pass {backend} {name_was} and {algorithm} {algorithm_was}, "
            "or start a new run with another {name}",
            resume=Argument("resume"),
            was=was,
            now=now,
            backend=Argument("backend"),
            name_was=before.name,
            algorithm=Argument("algorithm"),
            algorithm_was=before.algorithm,
            name=Argument("name"),
        )
    names = [d.name for d in previous.datasets]
    if names and dataset not in names:
        raise UserError(
            "{resume} on another dataset: the run searched {was!r}, not {now!r}",
            resume=Argument("resume"),
            was=names[0],
            now=dataset,
        )
    spaces = [s.name for s in previous.spaces]
    if spaces and space not in spaces:
        raise UserError(
            "{resume} with another space: the run searched {was!r}, not {now!r}",
            resume=Argument("resume"),
            was=spaces[0],
            now=space,
        )
