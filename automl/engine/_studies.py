"""Opening, resuming and searching one study: the pieces :class:`automl.AutoMLSearch` and
:class:`automl.Experiment` share, so a search means the same thing from either."""

from __future__ import annotations

import logging
import os
import socket
import warnings
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from automl._logs import optuna_verbosity
from automl.engine._session import Budget, SearchSession
from automl.exceptions import UserError
from automl.store import RunManifest, StudyInfo, load_study_info

if TYPE_CHECKING:
    import optuna

    from automl.datasets import Dataset
    from automl.engine._progress import Progress
    from automl.engine._protocol import Trainer
    from automl.space import SearchSpace

__all__ = [
    "check_family",
    "check_same_search",
    "choose_folds",
    "open_study",
    "resolve_dataset",
    "run_session",
]

log = logging.getLogger("automl.search")


def resolve_dataset(
    data: Any,
    *,
    target: str | None = None,
    task: str | None = None,
    seed: int = 0,
    persistence: str | None = None,
    split: str = "random",
    validation: Any = None,
    test: Any = None,
) -> Dataset:
    """A :class:`Dataset` from a name, a path, a Dataset, ``(x, y)`` arrays or a DataFrame with ``target``.

    ``validation`` and ``test`` are the user's own rows for those splits, in the form of ``data``: file
    paths beside a name or path, DataFrames (or ``(X, y)`` with X a DataFrame) beside a DataFrame,
    ``(x, y)`` beside arrays.
    """
    from automl.datasets import Dataset, from_arrays, from_frame, load_dataset

    given = {
        name: value
        for name, value in (("validation_data", validation), ("test_data", test))
        if value is not None
    }
    if isinstance(data, Dataset):
        if given:
            raise UserError(
                f"a Dataset is split already: drop {' and '.join(given)}, or pass the raw data instead"
            )
        return data
    if isinstance(data, str | os.PathLike):
        for name, value in given.items():
            if not isinstance(value, str | os.PathLike):
                raise UserError(
                    f"{name} beside a dataset file or name must be a file path, not a {type(value).__name__}"
                )
        return load_dataset(
            data, target=target, task=task, seed=seed, persistence=persistence, split=split,
            validation=validation, test=test,
        )  # fmt: skip
    if isinstance(data, pd.DataFrame):
        if target is None:
            raise UserError("fit(DataFrame) needs target=: the name of the column to predict")
        frames = {name: _as_frame(value, target, name) for name, value in given.items()}
        return from_frame(
            data, target=target, task=task, seed=seed, persistence=persistence, split=split,
            validation=frames.get("validation_data"), test=frames.get("test_data"),
        )  # fmt: skip
    if isinstance(data, tuple) and len(data) == 2:
        pairs = {name: _as_pair(value, name) for name, value in given.items()}
        x_val, y_val = pairs.get("validation_data", (None, None))
        x_test, y_test = pairs.get("test_data", (None, None))
        return from_arrays(
            data[0], data[1], task=task, seed=seed, x_val=x_val, y_val=y_val, x_test=x_test, y_test=y_test
        )
    raise UserError(
        f"cannot search on a {type(data).__name__}: give a dataset name, a file path, a Dataset, "
        "(x, y) arrays or a DataFrame with target="
    )


def _as_frame(value: Any, target: str, name: str) -> pd.DataFrame:
    """A split given beside a DataFrame: a DataFrame holding ``target``, or ``(X, y)`` with X a DataFrame."""
    if isinstance(value, pd.DataFrame):
        return value
    if isinstance(value, tuple) and len(value) == 2 and isinstance(value[0], pd.DataFrame):
        return value[0].assign(**{target: np.asarray(value[1]).reshape(-1)})
    raise UserError(f"{name} beside a DataFrame must be a DataFrame with column {target!r}, or (X, y)")


def _as_pair(value: Any, name: str) -> tuple[Any, Any]:
    if isinstance(value, tuple) and len(value) == 2:
        return value
    raise UserError(f"{name} beside (x, y) arrays must be an (x, y) pair too")


def check_family(space: SearchSpace, dataset: Dataset) -> None:
    if space.family == "cnn" and dataset.kind != "image":
        raise UserError(
            f"space {space.name!r} builds convolutional networks, but dataset {dataset.name!r} is tabular; "
            "use an MLP space such as mlp or tiny"
        )


def _fail_interrupted_trials(study: optuna.Study, *, local: bool, retry: bool) -> int:
    """Mark trials whose process is gone as failed; returns how many.

    Other processes may be searching the same study (workers, other machines), so a RUNNING trial is
    failed only when its process is known to be dead: its heartbeat is stale (Optuna's rule, which also
    retries it), or it names a worker on this machine whose process no longer exists. In a run's own
    SQLite file a RUNNING trial that names no worker (written before workers recorded themselves) is an
    orphan too. With ``retry`` (a backend whose proposals come from the study: ``shares_study`` in its
    registry entry) each is retried once.
    """
    import optuna

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        optuna.storages.fail_stale_trials(study)
    # Optuna has no public call to fail another process's trial; the storage API is stable across versions.
    storage = study._storage
    count = 0
    for trial in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,)):
        worker = trial.user_attrs.get("worker")
        if (worker is None and local) or (worker is not None and not _worker_alive(str(worker))):
            reason = "interrupted: its process ended mid-trial"
            storage.set_trial_user_attr(trial._trial_id, "failure", reason)
            storage.set_trial_state_values(trial._trial_id, optuna.trial.TrialState.FAIL)
            count += 1
            if retry:
                # As for a stale heartbeat: the config gets its chance again, once.
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                    optuna.storages.RetryHeartbeatStaleTrialCallback(max_retry=1)(
                        study, storage.get_trial(trial._trial_id)
                    )
    return count


def _worker_alive(worker: str) -> bool:
    """Whether the process ``host:pid`` may still run (True for another machine's: only it can tell)."""
    host, _, pid = worker.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return True
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def check_same_search(previous: RunManifest, dataset: str, space: str, backend: Any) -> None:
    """A resumed run continues its own study: the dataset, space and backend must be the run's."""
    before = previous.backend
    was = f"{before.name}/{before.algorithm}"
    now = f"{backend.name}/{backend.algorithm}"
    if was != now:
        raise UserError(
            f"`resume` with another backend or algorithm: the run was searched with {was}, not {now}; "
            f"pass `backend` {before.name} and `algorithm` {before.algorithm}, "
            "or start a new run with another `name`"
        )
    names = [d.name for d in previous.datasets]
    if names and dataset not in names:
        raise UserError(f"`resume` on another dataset: the run searched {names[0]!r}, not {dataset!r}")
    spaces = [s.name for s in previous.spaces]
    if spaces and space not in spaces:
        raise UserError(f"`resume` with another space: the run searched {spaces[0]!r}, not {space!r}")


#: ``cv="auto"`` scores trials by this many folds under a time budget on datasets with at most
#: AUTO_CV_MAX_ROWS training + validation rows, where one validation split is too noisy to rank configs.
#: Measured at 60 s (benchmarks/results/lever_cv.md): level with the split by paired median on wine (142
#: rows) and breast_cancer (455 rows), means +0.93 and +0.30 points, and honest validation scores; level
#: too on the regressions diabetes (354 rows) and auto_mpg (318), with 16-23 trials against the split's
#: 62-71 (benchmarks/results/quality-until-ebab918.md): the folds cost trials, not test score, and their
#: validation score overstates the test score less. Larger tables were not measured, so they keep the split.
AUTO_CV_FOLDS = 5
AUTO_CV_MAX_ROWS = 500


def choose_folds(cv: int | str | None, dataset: Dataset, backend: Any, *, timed: bool = True) -> int:
    """The folds that score each trial for ``cv`` (a count, 0 / None for the validation split, or "auto").

    ``auto`` folds only a search with a time budget (``timed``): it trades trials for better-ranked ones
    at equal time; under a trial count alone, folds would multiply the time the user asked for.

    Raises:
        UserError: a bad value, or folds asked of a backend that cannot use them.
    """
    if cv in (None, 0, "none", "0"):
        return 0
    refusal = getattr(backend, "cv_refusal", lambda: None)()
    if cv == "auto":
        rows = len(dataset.y_train) + len(dataset.y_val)
        if (
            not timed
            or refusal is not None
            or rows > AUTO_CV_MAX_ROWS
            or dataset.info.get("split") == "ordered"
        ):
            return 0
        if dataset.task.is_classification:
            smallest = int(np.bincount(np.concatenate([dataset.y_train, dataset.y_val]).astype(int)).min())
            if smallest < AUTO_CV_FOLDS:
                return 0
        return AUTO_CV_FOLDS
    try:
        folds = int(cv)
    except (TypeError, ValueError):
        folds = -1
    if isinstance(cv, bool) or folds < 2 or str(folds) != str(cv).strip():
        raise UserError(
            f"`cv` must be a number of folds (2 or more), 0 for the validation split, or 'auto', not {cv!r}"
        )
    if refusal is not None:
        raise UserError(f"`cv={folds}`: {refusal}")
    if dataset.info.get("split") == "ordered":
        raise UserError(
            f"`cv={folds}` shuffles rows into folds, but dataset {dataset.name!r} keeps its rows' order "
            "(`split: ordered`): its validation rows come after its training rows; search without `cv`"
        )
    return folds


def open_study(
    storage: optuna.storages.BaseStorage,
    name: str,
    *,
    space: SearchSpace,
    dataset: Dataset,
    metric: str,
    direction: str,
    backend: Any,
    seed: int,
    resume: bool,
    local: bool,
    prepare: bool = True,
    cv: int | str | None = None,
    timed: bool = False,
) -> tuple[optuna.Study, StudyInfo]:
    """Create study ``name`` with its :class:`StudyInfo` (baselines included), or reopen it to resume.

    ``prepare`` lets the backend set the study up (``Backend.prepare_study``); worker processes joining
    a study the parent opened pass False. ``cv`` is the folds that score each trial (see
    :func:`choose_folds`, with ``timed`` saying whether a time budget bounds the search; a resumed study
    keeps its own, and refuses another number given explicitly).

    Shared by :class:`AutoMLSearch` and :class:`automl.experiment.Experiment`. ``local`` says the storage
    is the run's own SQLite file, where every RUNNING trial is an orphan of a dead process.

    Raises:
        UserError: the study exists and ``resume`` is false, or it was searched with another space or
            other data (content hash / fingerprint changed).
    """
    import optuna

    exists = name in {s.study_name for s in optuna.get_all_study_summaries(storage, include_best_trial=False)}
    if exists:
        if not resume:
            raise UserError(
                f"study {name!r} already exists in the storage: add `resume` to continue it, "
                "or `overwrite` / another `name` to start afresh"
            )
        info = load_study_info(storage, name)
        if info.space_hash != space.content_hash:
            raise UserError(
                f"`resume` with a different search space: {space.name!r} changed since the run started "
                f"(hash {info.space_hash} → {space.content_hash}); restore it, or start a new run "
                "with another `name`"
            )
        if info.dataset_fingerprint != dataset.fingerprint:
            raise UserError(
                f"`resume` with different data: dataset {dataset.name!r} no longer matches the run's "
                "(fingerprint changed); restore it or the `seed`, or start a new run with another `name`"
            )
        if cv not in (None, "auto") and choose_folds(cv, dataset, backend) != info.cv:
            raise UserError(
                f"`resume` with `cv={cv}`: the run scored its trials with "
                f"{f'{info.cv}-fold cross-validation' if info.cv else 'the validation split'} "
                f"(`cv={info.cv}`); resume with that, or start a new run with another `name`"
            )
        with optuna_verbosity(optuna.logging.WARNING):
            study = optuna.load_study(study_name=name, storage=storage)
        failed = _fail_interrupted_trials(study, local=local, retry=_shares_study(backend))
        if failed:
            log.info("marked %d interrupted trial(s) as failed", failed)
        if prepare:
            _prepare(backend, study, space)
        return study, info
    folds = choose_folds(cv, dataset, backend, timed=timed)
    info = StudyInfo(
        dataset=dataset.name,
        dataset_fingerprint=dataset.fingerprint,
        space=space.name,
        space_hash=space.content_hash,
        task=dataset.task.value,
        metric=metric,
        direction=direction,
        backend=backend.name,
        algorithm=backend.algorithm,
        pruner=backend.pruner,
        baselines=dataset.baselines(metric),
        seed=seed,
        cv=folds,
    )
    with optuna_verbosity(optuna.logging.WARNING):  # our own log says what was created
        study = optuna.create_study(
            study_name=name, storage=storage, direction="maximize" if direction == "maximize" else "minimize"
        )
    for key, value in info.to_attrs().items():
        study.set_user_attr(key, value)
    if prepare:
        _prepare(backend, study, space)
    return study, info


def _shares_study(backend: Any) -> bool:
    spec = getattr(backend, "spec", None)  # None for backends not derived from Backend
    return bool(spec is not None and spec.shares_study)


def _prepare(backend: Any, study: optuna.Study, space: SearchSpace) -> None:
    hook = getattr(backend, "prepare_study", None)  # optional for backends not derived from Backend
    if hook is not None:
        hook(study, space)


def run_session(
    backend: Any,
    study: optuna.Study,
    info: StudyInfo,
    space: SearchSpace,
    dataset: Dataset,
    budget: Budget,
    *,
    seed: int,
    progress: Progress | None = None,
    run_dir: Path | None = None,
    trainer: Trainer | None = None,
    device: str | None = None,
    max_trials_here: int | None = None,
    since: datetime | None = None,
    deadline: float | None = None,
) -> SearchSession:
    """Search one opened study under ``budget`` with ``backend``; returns the finished session.

    ``trainer`` replaces :func:`automl.train` (tests); ``device`` names the device this process trains on
    when the caller has set it up already (default: set this process up for training, which imports
    TensorFlow, and record what it found). A worker stops after ``max_trials_here`` trials (to be
    recycled) and counts failures in a row from ``since`` (the whole search's start). ``deadline`` (a
    ``time.time()``) is the search's end when it was fixed before this call, as other processes know it.

    Raises:
        FatalError: the session stopped on too many failures (finished trials are kept).
        KeyboardInterrupt: Ctrl-C, after the session is stopped cleanly.
    """
    from automl.engine._runner import TrialRunner
    from automl.interrupts import InterruptGuard

    if device is None:
        from automl import _keras  # TensorFlow: only when this process trains

        device = _keras.configure_process()
    runner = TrialRunner(
        dataset,
        metric=info.metric,
        seed=seed,
        trial_timeout=budget.trial_timeout,
        device=device,
        family=space.family,
        trainer=trainer,
        cv=info.cv,
    )
    session = SearchSession(
        study=study, info=info, space=space, runner=runner, budget=budget, progress=progress, run_dir=run_dir,
        max_trials_here=max_trials_here, since=since, deadline=deadline,
    )  # fmt: skip
    with InterruptGuard():
        session.start()
        try:
            backend.search(session)
        finally:
            session.stop()
    if session.fatal is not None:
        raise session.fatal
    return session
