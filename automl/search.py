"""AutoMLSearch: search one dataset with one space on one backend, from Python (the CLI calls the same).

    >>> import automl
    >>> search = automl.AutoMLSearch(space="tiny", n_trials=10, run_dir="runs/demo")
    >>> search.fit("digits").leaderboard_        # doctest: +SKIP

Constructors store, ``fit`` works and returns ``self``, results end in ``_`` (scikit-learn's convention).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from automl.exceptions import UserError
from automl.rundir import RunDir, environment_info, prepare_run_dir, resolve_run_path
from automl.session import Budget, SearchSession
from automl.store import (
    StudyInfo,
    TrialRecord,
    TrialState,
    load_records,
    load_study_info,
    mask_password,
    open_storage,
    storage_url_for,
    study_name,
)

if TYPE_CHECKING:
    import optuna

    from automl.datasets import Dataset
    from automl.progress import Progress
    from automl.space import SearchSpace

__all__ = ["AutoMLSearch", "open_study", "resolve_dataset", "run_session"]

log = logging.getLogger("automl.search")


def resolve_dataset(
    data: Any, *, target: str | None = None, task: str | None = None, seed: int = 0
) -> Dataset:
    """A :class:`Dataset` from a name, a path, a Dataset, ``(x, y)`` arrays or a DataFrame with ``target``."""
    from automl.datasets import Dataset, from_arrays, from_frame, load_dataset

    if isinstance(data, Dataset):
        return data
    if isinstance(data, str | os.PathLike):
        return load_dataset(data, target=target, task=task, seed=seed)
    if isinstance(data, pd.DataFrame):
        if target is None:
            raise UserError("fit(DataFrame) needs target=: the name of the column to predict")
        return from_frame(data, target=target, task=task, seed=seed)
    if isinstance(data, tuple) and len(data) == 2:
        return from_arrays(data[0], data[1], task=task, seed=seed)
    raise UserError(
        f"cannot search on a {type(data).__name__}: give a dataset name, a file path, a Dataset, "
        "(x, y) arrays or a DataFrame with target="
    )


def _check_family(space: SearchSpace, dataset: Dataset) -> None:
    if space.family == "cnn" and dataset.kind != "image":
        raise UserError(
            f"space {space.name!r} builds convolutional networks, but dataset {dataset.name!r} is tabular; "
            "use an MLP space such as mlp or tiny"
        )


def _fail_interrupted_trials(study: optuna.Study, *, local: bool) -> int:
    """Mark trials left RUNNING by a dead process as failed; returns how many.

    A run's own SQLite file has one owner, so every RUNNING trial there is an orphan. On a shared
    server another worker may be alive: there only heartbeat-stale trials are failed (Optuna's rule).
    """
    import optuna

    if not local:
        optuna.storages.fail_stale_trials(study)
        return 0
    # Optuna has no public call to fail another process's trial; the storage API is stable across versions.
    storage = study._storage
    count = 0
    for trial in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,)):
        storage.set_trial_user_attr(trial._trial_id, "failure", "interrupted: its process ended mid-trial")
        storage.set_trial_state_values(trial._trial_id, optuna.trial.TrialState.FAIL)
        count += 1
    return count


def _check_same_search(previous: dict[str, Any], dataset: str, space: str, backend: Any) -> None:
    """``--resume`` continues the run's own study: the dataset, space and backend must be the same."""
    before = previous.get("backend", {})
    was = f"{before.get('name')}/{before.get('algorithm')}"
    now = f"{backend.name}/{backend.algorithm}"
    if was != now:
        raise UserError(
            f"--resume with another backend or algorithm: the run was searched with {was}, not {now}; "
            f"pass --backend {before.get('name')} --algorithm {before.get('algorithm')}, "
            "or start a new run with --name"
        )
    names = [d.get("name") for d in previous.get("datasets", [])]
    if names and dataset not in names:
        raise UserError(f"--resume on another dataset: the run searched {names[0]!r}, not {dataset!r}")
    spaces = [s.get("name") for s in previous.get("spaces", [])]
    if spaces and space not in spaces:
        raise UserError(f"--resume with another space: the run searched {spaces[0]!r}, not {space!r}")


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
) -> tuple[optuna.Study, StudyInfo]:
    """Create study ``name`` with its :class:`StudyInfo` (baselines included), or reopen it to resume.

    Shared by :class:`AutoMLSearch` and :class:`automl.experiment.Experiment`. ``local`` says the storage
    is the run's own SQLite file, where every RUNNING trial is an orphan of a dead process.

    Raises:
        UserError: the study exists and ``resume`` is false, or it was searched with another space or
            other data (content hash / fingerprint changed).
    """
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)  # our own log says what was created
    exists = name in {s.study_name for s in optuna.get_all_study_summaries(storage, include_best_trial=False)}
    if exists:
        if not resume:
            raise UserError(
                f"study {name!r} already exists in the storage: add --resume to continue it, "
                "or --overwrite / another --name to start afresh"
            )
        info = load_study_info(storage, name)
        if info.space_hash != space.content_hash:
            raise UserError(
                f"--resume with a different search space: {space.name!r} changed since the run started "
                f"(hash {info.space_hash} → {space.content_hash}); restore it, or start a new run "
                "with --name"
            )
        if info.dataset_fingerprint != dataset.fingerprint:
            raise UserError(
                f"--resume with different data: dataset {dataset.name!r} no longer matches the run's "
                "(fingerprint changed); restore it or the seed, or start a new run with --name"
            )
        study = optuna.load_study(study_name=name, storage=storage)
        failed = _fail_interrupted_trials(study, local=local)
        if failed:
            log.info("marked %d interrupted trial(s) as failed", failed)
        return study, info
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
    )
    study = optuna.create_study(study_name=name, storage=storage, direction=direction)
    for key, value in info.to_attrs().items():
        study.set_user_attr(key, value)
    return study, info


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
) -> SearchSession:
    """Search one opened study under ``budget`` with ``backend``; returns the finished session.

    Raises:
        FatalError: the session stopped on too many failures (finished trials are kept).
        KeyboardInterrupt: Ctrl-C, after the session is stopped cleanly.
    """
    from automl import _keras
    from automl.runner import TrialRunner

    device = _keras.configure_process()
    runner = TrialRunner(
        dataset,
        metric=info.metric,
        seed=seed,
        trial_timeout=budget.trial_timeout,
        device=device,
        family=space.family,
    )
    session = SearchSession(
        study=study, info=info, space=space, runner=runner, budget=budget, progress=progress, run_dir=run_dir
    )
    session.start()
    try:
        backend.search(session)
    finally:
        session.stop()
    if session.fatal is not None:
        raise session.fatal
    return session


class AutoMLSearch:
    """A hyperparameter search of Keras models on one dataset.

    Args:
        space: Search space: a shipped name (``mlp``, ``cnn``, ``tiny``), a YAML path or a SearchSpace.
        backend: ``optuna`` or ``keras_tuner``.
        algorithm: The backend's sampler (Optuna: tpe, random, cmaes, gp, grid, qmc).
        pruner: Optuna: median, successive_halving, hyperband, none.
        metric: Objective (accuracy, balanced_accuracy, auc, f1, log_loss; rmse, mae, r2); default the
            space's objective, or accuracy / rmse.
        n_trials: Finished trials the study should hold (a resumed run continues up to this number).
        timeout: Wall-clock seconds for this call to :meth:`fit`.
        trial_timeout: Seconds after which one trial is ended as failed.
        storage: Optuna storage URL; default the run's own SQLite file.
        run_dir: Folder of the run; default ``runs/<name>``.
        name: Run name; default ``<dataset>-<space>-<backend>``.
        seed: Seeds the split, the sampler and every trial (trial n uses seed + n).
        resume: Continue an existing run. overwrite: Delete an existing run and start afresh.
        progress: A :class:`automl.progress.Progress` display; default none.
    """

    def __init__(
        self,
        *,
        space: str | Path | SearchSpace = "mlp",
        backend: str = "optuna",
        algorithm: str | None = None,
        pruner: str | None = None,
        metric: str | None = None,
        n_trials: int | None = 20,
        timeout: float | None = None,
        trial_timeout: float | None = None,
        storage: str | None = None,
        run_dir: str | Path | None = None,
        name: str | None = None,
        seed: int = 0,
        resume: bool = False,
        overwrite: bool = False,
        max_consecutive_failures: int = 5,
        progress: Progress | None = None,
    ) -> None:
        self.space = space
        self.backend = backend
        self.algorithm = algorithm
        self.pruner = pruner
        self.metric = metric
        self.n_trials = n_trials
        self.timeout = timeout
        self.trial_timeout = trial_timeout
        self.storage = storage
        self.run_dir = run_dir
        self.name = name
        self.seed = seed
        self.resume = resume
        self.overwrite = overwrite
        self.max_consecutive_failures = max_consecutive_failures
        self.progress = progress

    # ------------------------------------------------------------------ fit
    def fit(self, data: Any, *, target: str | None = None, task: str | None = None) -> AutoMLSearch:
        """Search ``data``; fills ``leaderboard_``, ``best_config_``, ``best_score_``, ``trials_``.

        Raises:
            UserError: a bad argument, before any trial runs.
            FatalError: too many failed trials in a row; finished trials are kept and ``--resume`` continues.
            KeyboardInterrupt: after the finished trials and the leaderboard are saved.
        """
        from automl.backends import get_backend
        from automl.metrics import get_metric
        from automl.space import load_space

        space = load_space(self.space)
        backend = get_backend(self.backend)(algorithm=self.algorithm, pruner=self.pruner, seed=self.seed)
        budget = Budget(
            trials=self.n_trials,
            timeout=self.timeout,
            trial_timeout=self.trial_timeout,
            max_consecutive_failures=self.max_consecutive_failures,
        )
        dataset = resolve_dataset(data, target=target, task=task, seed=self.seed)
        _check_family(space, dataset)
        metric = get_metric(self.metric or space.objective, dataset.task)
        path = resolve_run_path(
            name=self.name, run_dir=self.run_dir, default_name=f"{dataset.name}-{space.name}-{backend.name}"
        )
        run = prepare_run_dir(path, resume=self.resume, overwrite=self.overwrite)
        if self.resume and run.experiment_file.exists():
            _check_same_search(run.read_experiment(), dataset.name, space.name, backend)
        url = storage_url_for(run.path, self.storage)
        storage = open_storage(url)
        name = study_name(run.path.name, dataset.name, space.name, backend.name, backend.algorithm)
        study, info = self._open_study(storage, name, space, dataset, metric.name, metric.direction, backend)
        run.write_experiment(
            {
                "version": 1,
                "kind": "search",
                "name": run.path.name,
                "datasets": [
                    {
                        "name": dataset.name,
                        "source": str(data) if isinstance(data, str | os.PathLike) else dataset.source,
                        "target": target,
                        "task": dataset.task.value,
                        "fingerprint": dataset.fingerprint,
                    }
                ],
                "spaces": [{"name": space.name, "source": space.source, "hash": space.content_hash}],
                "backend": {"name": backend.name, "algorithm": backend.algorithm, "pruner": backend.pruner},
                "metric": metric.name,
                "budget": {
                    "trials": budget.trials,
                    "timeout": budget.timeout,
                    "trial_timeout": budget.trial_timeout,
                },
                "storage": "sqlite" if self.storage in (None, "", "sqlite") else mask_password(url),
                "seed": self.seed,
                "studies": [name],
                **environment_info(),
            }
        )
        handler = run.attach_log()
        self.run_dir_ = run.path
        self.study_name_ = name
        self.dataset_ = dataset
        self.space_ = space
        self._storage = storage
        try:
            self._search(backend, study, info, space, dataset, metric.name, budget)
        finally:
            self._collect(storage, name, info)
            run.leaderboard_file.write_text(self.leaderboard_.to_csv(index=False), encoding="utf-8")
            RunDir.detach_log(handler)
        return self

    def _open_study(
        self,
        storage: optuna.storages.BaseStorage,
        name: str,
        space: SearchSpace,
        dataset: Dataset,
        metric: str,
        direction: str,
        backend: Any,
    ) -> tuple[optuna.Study, StudyInfo]:
        return open_study(
            storage,
            name,
            space=space,
            dataset=dataset,
            metric=metric,
            direction=direction,
            backend=backend,
            seed=self.seed,
            resume=self.resume,
            local=self.storage in (None, "", "sqlite"),
        )

    def _search(
        self,
        backend: Any,
        study: optuna.Study,
        info: StudyInfo,
        space: SearchSpace,
        dataset: Dataset,
        metric: str,
        budget: Budget,
    ) -> None:
        run_session(
            backend,
            study,
            info,
            space,
            dataset,
            budget,
            seed=self.seed,
            progress=self.progress,
            run_dir=self.run_dir_,
        )

    # ------------------------------------------------------------------ results
    def _collect(self, storage: Any, name: str, info: StudyInfo) -> None:
        from automl.leaderboard import study_leaderboard

        records = load_records(storage, name)
        self.trials_: list[TrialRecord] = records
        self.study_info_ = info
        self.leaderboard_: pd.DataFrame = study_leaderboard(records, info)
        complete = [r for r in records if r.state is TrialState.COMPLETE and r.score is not None]
        best = None
        if complete:
            pick = max if info.direction == "maximize" else min
            best = pick(complete, key=lambda r: r.score)
        self.best_trial_: TrialRecord | None = best
        self.best_config_: dict[str, Any] | None = None if best is None else dict(best.config)
        self.best_score_: float | None = None if best is None else best.score

    @classmethod
    def load(cls, run_dir: str | Path) -> AutoMLSearch:
        """Reopen a finished or interrupted run: its results (``leaderboard_``…) without searching."""
        run = RunDir.open(run_dir)
        experiment = run.read_experiment()
        storage = open_storage(storage_url_for(run.path, experiment.get("storage")), heartbeat_interval=None)
        backend = experiment.get("backend", {})
        search = cls(
            space=experiment["spaces"][0]["source"],
            backend=backend.get("name", "optuna"),
            algorithm=backend.get("algorithm"),
            pruner=backend.get("pruner"),
            metric=experiment.get("metric"),
            n_trials=experiment.get("budget", {}).get("trials"),
            run_dir=run.path,
            seed=int(experiment.get("seed", 0)),
            resume=True,
        )
        name = experiment["studies"][0]
        search.run_dir_ = run.path
        search.study_name_ = name
        search._storage = storage
        search._collect(storage, name, load_study_info(storage, name))
        return search

    # ------------------------------------------------------------------ retrain
    def retrain(self, *, top_k: int = 1, seeds: int = 1, epochs: str | int = "best") -> Any:
        """Retrain the best config(s) on train + validation, score once on test, save the model.

        Fills ``test_metrics_`` (test scores of the saved config, mean over seeds), ``test_std_`` and
        ``retrain_report_``; returns the saved Keras model (top-1 config, first seed). See
        :mod:`automl.retrain` for the policy.
        """
        from automl.retrain import retrain_study

        if not hasattr(self, "trials_"):
            raise UserError("retrain() needs a search: call fit() or AutoMLSearch.load() first")
        dataset = getattr(self, "dataset_", None)
        if dataset is None:
            from automl.retrain import _reload_dataset

            experiment = RunDir.open(self.run_dir_).read_experiment()
            dataset = _reload_dataset(experiment["datasets"][0], int(experiment.get("seed", 0)))
            self.dataset_ = dataset
        report, model = retrain_study(
            dataset,
            self.trials_,
            self.study_info_,
            Path(self.run_dir_) / "models" / dataset.name,
            top_k=top_k,
            seeds=seeds,
            epochs=epochs,
            base_seed=self.seed,
        )
        best = report.configs[0]
        self.retrain_report_ = report
        self.test_metrics_ = {name: best.mean(name) for name in best.runs[0].test}
        self.test_std_ = {name: best.spread(name) for name in best.runs[0].test}
        return model
