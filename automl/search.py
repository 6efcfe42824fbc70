"""AutoMLSearch: search one dataset with one space on one backend, from Python (the CLI calls the same).

    >>> import automl
    >>> search = automl.AutoMLSearch(space="tiny", n_trials=10, run_dir="runs/demo")
    >>> search.fit("digits").leaderboard_        # doctest: +SKIP

Constructors store, ``fit`` works and returns ``self``, results end in ``_`` (scikit-learn's convention).

Over 400 lines for a reason: one estimator class, whose every argument is documented in its docstring
(a quarter of the file); the work itself is delegated (launching to :mod:`automl.workers`, retraining to
:mod:`automl.retrain`, reports to :mod:`automl.report`).
"""

from __future__ import annotations

import logging
import math
import os
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from automl.datasets import resolve_dataset
from automl.engine import Budget, check_family, parse_stop_stalled
from automl.exceptions import Argument, UserError
from automl.keras_backend import resumed_keras_backend, use_keras_backend
from automl.objectives import parse_objectives
from automl.space import DEFAULT_SPACE
from automl.store import (
    BackendEntry,
    BudgetEntry,
    DatasetEntry,
    Environment,
    RetrainPolicy,
    RunDir,
    RunManifest,
    SearchStopped,
    SpaceEntry,
    StudyInfo,
    TrialRecord,
    best_first,
    load_records,
    load_stop,
    load_study_info,
    open_run,
    read_manifest,
    reload_dataset,
    split_files,
    write_manifest,
)
from automl.training import latency_note
from automl.workers import (
    RECYCLE_AFTER,
    check_backend_fits,
    check_same_search,
    parse_devices,
    plan_slots,
    prepare_run,
    prepare_study,
    run_study,
    short_search,
)

if TYPE_CHECKING:
    from automl.engine import Progress
    from automl.report import ReportPath
    from automl.retrain import Predictor
    from automl.space import SearchSpace

__all__ = ["AutoMLSearch"]

log = logging.getLogger("automl.search")


class AutoMLSearch(BaseEstimator):  # type: ignore[misc]
    """A hyperparameter search of Keras models on one dataset, as a scikit-learn estimator.

    ``fit`` searches; ``retrain`` trains the winner on train + validation, scores it once on the test
    split and returns a :class:`automl.Predictor`; then ``predict``, ``predict_proba`` and ``score`` take
    raw rows. ``get_params``/``set_params`` and ``sklearn.base.clone`` work as for any estimator (the
    constructor's arguments are stored as given; results end in ``_``).

    Args:
        space: Search space: a shipped name (``compact``, the default, converges in short searches;
            ``mlp`` spans every knob widely, for long ones; ``cnn``, ``tiny``), a YAML path or a
            SearchSpace.
        backend: ``optuna`` or ``keras_tuner``.
        algorithm: The backend's sampler (Optuna: tpe, random, cmaes, gp, grid, qmc; KerasTuner: random,
            bayesian, hyperband, grid).
        pruner: Optuna: median, successive_halving, hyperband, none.
        backend_options: Settings of the algorithm or pruner, e.g. ``{"factor": 2}`` for Hyperband (an
            unknown one is a UserError listing those of the chosen algorithm).
        metric: Objective (accuracy, balanced_accuracy, auc, f1, log_loss; rmse, mae, r2); default the
            space's objective, or accuracy / rmse.
        objectives: The score and what to minimise beside it: ``"accuracy,size"`` or a list, any of
            ``params``, ``size`` (bytes saved), ``latency`` (ms per row at batch 1) with the score's metric
            (:mod:`automl.objectives`; it must agree with ``metric`` when both name one). With one of those
            the Optuna backend searches the trade-off (a multi-objective study, Pareto front); default the
            score alone. A resumed search keeps its own.
        n_trials: Finished trials the study should hold (a resumed run continues up to this number).
            Default ``"auto"``: 20 when no ``timeout`` is given; with a ``timeout`` alone, as many as the
            time allows. Either budget covers the search, not the retrain.
        timeout: Wall-clock seconds for this call to :meth:`fit`, its set-up included.
        trial_timeout: Seconds after which one trial is ended as failed.
        stop_stalled: Stop the search once its best score stopped improving: a number of trials (``15``:
            that many finished trials in a row brought no improvement) or a duration (``"10m"``: no
            improvement for that long), counted over every worker. Default: never. The run records it:
            a resumed run keeps it unless another is given.
        stall_tolerance: The least improvement that counts for ``stop_stalled``, as a fraction of the best
            score (default ``1e-3``: 0.1 %, see :data:`automl.engine.STALL_TOLERANCE`).
        max_params: The most weights a trained model may have, in place of the space's ``max_params``: a
            config over it is never trained nor counted as a trial, and the sampler learns to avoid it
            (README "Limits").
        max_latency_ms: The most milliseconds per row (batch 1) a model may take on the trial's device, in
            place of the space's: each proposal's model is built untrained and timed before it trains.
        cv: Score each trial by K-fold cross-validation on the training + validation rows (each fold's
            preprocessing fitted on its own training rows; the test split untouched): a number of folds,
            0 for the one validation split, or ``"auto"`` (default: 5 folds when a ``timeout`` bounds the
            search and the data has at most 500 training + validation rows, where one validation split is
            noise; see the README). Costs K fits per trial. A resumed search keeps its folds.
        storage: Optuna storage URL; default the run's own SQLite file.
        run_dir: Folder of the run; default ``runs/<name>``.
        name: Run name; default ``<dataset>-<space>-<backend>``.
        seed: Seeds the split, the sampler and every trial (trial n uses seed + n).
        resume: Continue an existing run. overwrite: Delete an existing run and start afresh.
        progress: A :class:`automl.engine.Progress` display; default none.
        devices: Where trials train, one worker process per slot: ``"auto"`` (every GPU; without GPUs one
            single-threaded worker per core when the budget is long enough to pay for their start-up,
            else this process), ``"cpu"``, ``"all"`` (GPUs), a number of CPU workers, or a mapping with
            ``gpus`` (``"all"`` or a count), ``gpu_ids``, ``trials_per_gpu``, ``workers``, ``precision``.
        recycle_after: Trials a worker process runs before a fresh one replaces it (memory stays flat).
        heartbeat_interval: Seconds between a running trial's heartbeats in the storage; a trial silent
            for four intervals is failed and retried (a worker that died).
        oracle_port: KerasTuner only: the port its chief process listens on, on every interface, so
            workers on other machines join (``automl worker --oracle HOST:PORT``); default a free port
            reachable from this machine only.
        warm_start: Configs tried first (see :mod:`automl.warmstart`): ``"portfolio"`` (configs that did
            well across the shipped datasets, leaving this dataset out), ``"none"``, or the directory of
            an earlier run of the same space (its best configs). Default ``"auto"``: the portfolio when
            the space ships one and the algorithm can take it, else none. At most 5 configs, and at most
            a quarter of ``n_trials``. A resumed run keeps the warm start it started with.
        checkpoint_dir: Where running trials keep their checkpoints (a folder every worker reaches; workers
            joining from other machines give theirs to :func:`automl.workers.join`). Default:
            ``AUTOML_CHECKPOINT_DIR``, else ``checkpoints/`` in the run directory. The run records it, and
            a resumed run keeps it unless another is given.
        keras_backend: The Keras backend trials train on: ``"tensorflow"``, ``"jax"`` or ``"torch"``.
            Default: ``KERAS_BACKEND``, else TensorFlow. Chosen before Keras is first imported in this
            process (a process that already imported Keras keeps its backend; another is one error). The
            run records it: workers, resumption and ``retrain`` use it.
    """

    def __init__(
        self,
        *,
        space: str | Path | SearchSpace = DEFAULT_SPACE,
        backend: str = "optuna",
        algorithm: str | None = None,
        pruner: str | None = None,
        backend_options: dict[str, Any] | None = None,
        metric: str | None = None,
        objectives: str | Sequence[str] | None = None,
        n_trials: int | str | None = "auto",
        timeout: float | None = None,
        trial_timeout: float | None = None,
        stop_stalled: int | str | None = None,
        stall_tolerance: float | None = None,
        max_params: int | None = None,
        max_latency_ms: float | None = None,
        cv: int | str = "auto",
        storage: str | None = None,
        run_dir: str | Path | None = None,
        name: str | None = None,
        seed: int = 0,
        resume: bool = False,
        overwrite: bool = False,
        max_consecutive_failures: int = 5,
        progress: Progress | None = None,
        devices: Any = "auto",
        recycle_after: int | None = RECYCLE_AFTER,
        heartbeat_interval: int = 60,
        oracle_port: int | None = None,
        warm_start: str | Path = "auto",
        checkpoint_dir: str | Path | None = None,
        keras_backend: str | None = None,
    ) -> None:
        self.space = space
        self.backend = backend
        self.algorithm = algorithm
        self.pruner = pruner
        self.backend_options = backend_options
        self.metric = metric
        self.objectives = objectives
        self.n_trials = n_trials
        self.timeout = timeout
        self.trial_timeout = trial_timeout
        self.stop_stalled = stop_stalled
        self.stall_tolerance = stall_tolerance
        self.max_params = max_params
        self.max_latency_ms = max_latency_ms
        self.cv = cv
        self.storage = storage
        self.run_dir = run_dir
        self.name = name
        self.seed = seed
        self.resume = resume
        self.overwrite = overwrite
        self.max_consecutive_failures = max_consecutive_failures
        self.progress = progress
        self.devices = devices
        self.recycle_after = recycle_after
        self.heartbeat_interval = heartbeat_interval
        self.oracle_port = oracle_port
        self.warm_start = warm_start
        self.checkpoint_dir = checkpoint_dir
        self.keras_backend = keras_backend

    # ------------------------------------------------------------------ fit
    def fit(
        self,
        data: Any,
        y: Any = None,
        *,
        target: str | None = None,
        task: str | None = None,
        persistence: str | None = None,
        split: str = "random",
        validation_data: Any = None,
        test_data: Any = None,
    ) -> AutoMLSearch:
        """Search ``data``; fills ``leaderboard_``, ``best_config_``, ``best_score_``, ``trials_``.

        ``data`` is a built-in name, a CSV/Parquet/NPZ path, a :class:`automl.Dataset`, a DataFrame with
        ``target=`` naming its label column, or inputs ``X`` with labels ``y`` (``fit(X, y)``, as in
        scikit-learn; ``fit((X, y))`` too). ``target``, ``task`` and ``split`` (``random`` or ``ordered`` for
        data in time order) as in
        :func:`automl.load_dataset`; ``persistence`` names a column holding the target's last known value,
        for the persistence baseline.

        ``validation_data`` and ``test_data`` are your own rows for those splits, as Keras's
        ``validation_data``: ``(X, y)`` beside ``X, y``, a DataFrame (or ``(X, y)``) beside a DataFrame, a
        file path beside a file or name. A split given is not cut from ``data``; what is still cut comes
        from ``data`` (its last rows under ``split="ordered"``). Preprocessing is fitted on the training
        rows alone. The run records each file with its SHA-256, so ``retrain`` and ``resume`` reload
        exactly them and refuse a changed one.

        Raises:
            UserError: a bad argument, before any trial runs.
            FatalError: too many failed trials in a row; finished trials are kept; ``resume=True`` goes on.
            KeyboardInterrupt: after the finished trials and the leaderboard are saved.
        """
        from automl.backends import get_backend
        from automl.metrics import get_metric
        from automl.space import load_space
        from automl.warmstart import check_warm_start, plan_warm_start, resumed_warm_start

        clock_started = time.time()  # the time budget covers set-up too: the user waits for all of it
        if self.keras_backend is not None:
            use_keras_backend(self.keras_backend)  # now: a KerasTuner backend loads Keras
        data, target = _with_labels(data, y, target)
        for fitted in ("predictor_", "test_metrics_", "test_std_", "retrain_report_"):
            self.__dict__.pop(fitted, None)  # a new search's results replace the last one's
        space = load_space(self.space)
        if self.max_params is not None or self.max_latency_ms is not None:
            space = space.with_limits(max_params=self.max_params, max_latency_ms=self.max_latency_ms)
        backend = get_backend(self.backend)(
            algorithm=self.algorithm,
            pruner=self.pruner,
            seed=self.seed,
            options=dict(self.backend_options or {}),
        )
        warm = plan_warm_start(self.warm_start, space, backend)
        setting = check_warm_start(self.warm_start)
        stall_trials, stall_seconds = parse_stop_stalled(self.stop_stalled)
        record = BudgetEntry(
            trials=_trial_budget(self.n_trials, self.timeout),
            timeout=self.timeout,
            trial_timeout=self.trial_timeout,
            max_consecutive_failures=self.max_consecutive_failures,
            stall_trials=stall_trials,
            stall_seconds=stall_seconds,
            stall_tolerance=self.stall_tolerance,
        )
        budget = Budget.of(record, timeout=self.timeout)
        slots = plan_slots(parse_devices(self.devices), short=short_search(budget.trials, budget.timeout))
        check_backend_fits(backend, slots)
        if self.oracle_port is not None:
            if backend.spec.chief is None:
                raise UserError(
                    "{oracle_port} is for the keras_tuner backend; {backend} workers on other machines "
                    "join through the storage alone",
                    oracle_port=Argument("oracle_port"),
                    backend=backend.name,
                )
            if not 0 < self.oracle_port < 65536:
                raise UserError(
                    "{oracle_port} must be a port number (1-65535), not {port}",
                    oracle_port=Argument("oracle_port"),
                    port=self.oracle_port,
                )
        if self.recycle_after is not None and self.recycle_after < 1:
            raise UserError(
                "{recycle_after} must be at least 1 trial, but got {got}",
                recycle_after=Argument("recycle_after"),
                got=self.recycle_after,
            )
        dataset = resolve_dataset(
            data, target=target, task=task, seed=self.seed, persistence=persistence, split=split,
            validation=validation_data, test=test_data,
        )  # fmt: skip
        check_family(space, dataset)
        chosen = parse_objectives(self.objectives, self.metric)
        metric = get_metric(chosen.metric or space.objective, dataset.task)
        prepared = prepare_run(
            name=self.name, run_dir=self.run_dir, default_name=f"{dataset.name}-{space.name}-{backend.name}",
            storage=self.storage, resume=self.resume, overwrite=self.overwrite, kind="search",
            heartbeat_interval=self.heartbeat_interval, checkpoint_dir=self.checkpoint_dir,
        )  # fmt: skip
        if prepared.previous is not None:
            check_same_search(prepared.previous, dataset.name, space.name, backend)
            record = _resumed_stall(record, prepared.previous.budget, given=self.stop_stalled is not None)
            budget = Budget.of(record, timeout=self.timeout)
            setting = resumed_warm_start(prepared.previous.warm_start, self.warm_start)
            keras_backend = resumed_keras_backend(prepared.previous.keras_backend, self.keras_backend)
        else:
            keras_backend = use_keras_backend(self.keras_backend)
        launch = prepare_study(
            prepared, dataset=dataset, space=space, backend=backend, metric=metric, budget=budget,
            seed=self.seed, resume=self.resume, cv=self.cv, warm=warm,
            objectives=None if self.objectives is None else chosen.secondary,
        )  # fmt: skip
        run, name, storage, info = prepared.run, launch.name, prepared.storage, launch.info
        manifest = RunManifest(
            kind="search",
            name=run.path.name,
            datasets=(
                DatasetEntry(
                    name=dataset.name,
                    source=str(data) if isinstance(data, str | os.PathLike) else dataset.source,
                    target=target,
                    task=dataset.task.value,
                    fingerprint=dataset.fingerprint,
                    persistence=dataset.info.get("persistence"),
                    split=dataset.info.get("split", "random"),
                    **split_files(validation=validation_data, test=test_data),
                ),
            ),
            spaces=(SpaceEntry.of(space),),
            backend=BackendEntry(backend.name, backend.algorithm, backend.pruner, dict(backend.options)),
            studies=(name,),
            metric=metric.name,
            budget=replace(record, trials_per_study={name: budget.trials}),
            devices={"workers": len(slots), "slots": [slot.to_dict() for slot in slots]},
            storage=prepared.storage_label(),
            seed=self.seed,
            environment=Environment.current(),
            warm_start=setting,
            checkpoint_dir=None if prepared.checkpoint_dir is None else str(prepared.checkpoint_dir),
            keras_backend=keras_backend,
            latency_measured=latency_note(len(slots)),
        )
        write_manifest(run, storage, manifest)
        handler = run.attach_log()
        self.run_dir_ = run.path
        self.study_name_ = name
        self.dataset_ = dataset
        self.space_ = space
        self._storage = storage
        try:
            run_study(
                launch, backend, prepared=prepared, slots=slots, seed=self.seed, started=clock_started,
                progress=self.progress, recycle_after=self.recycle_after,
                heartbeat_interval=self.heartbeat_interval, oracle_port=self.oracle_port,
                reloadable=isinstance(data, str | os.PathLike),
            )  # fmt: skip
        finally:
            self._collect(storage, name, info)
            try:
                with run.writing():
                    run.leaderboard_file.write_text(self.leaderboard_.to_csv(index=False), encoding="utf-8")
            finally:
                RunDir.detach_log(handler)
        return self

    # ------------------------------------------------------------------ results
    def _collect(self, storage: Any, name: str, info: StudyInfo) -> None:
        from automl.report import study_leaderboard

        records = load_records(storage, name)
        self.trials_: list[TrialRecord] = records
        self.study_info_ = info
        #: why the search stopped before its budget was spent (stalled, failures), or None
        self.stopped_: SearchStopped | None = load_stop(storage, name)
        self.leaderboard_: pd.DataFrame = study_leaderboard(records, info, stopped=self.stopped_)
        ranked = best_first(records, info.direction)
        best = ranked[0] if ranked else None
        self.best_trial_: TrialRecord | None = best
        self.best_config_: dict[str, Any] | None = None if best is None else dict(best.config)
        self.best_score_: float | None = None if best is None else best.score

    @classmethod
    def load(cls, run_dir: str | Path) -> AutoMLSearch:
        """Reopen a finished or interrupted run: its results (``leaderboard_``…) without searching."""
        run, manifest, storage = open_run(run_dir)
        if not manifest.studies or not manifest.spaces:
            raise UserError(f"{run.path}: the run holds no study yet; run a search first")
        space = manifest.spaces[0]
        search = cls(
            # The recorded definition rebuilds the searched space even where its file is not.
            space=space.space() if space.definition is not None else str(space.source),
            backend=manifest.backend.name,
            algorithm=manifest.backend.algorithm,
            pruner=manifest.backend.pruner,
            backend_options=manifest.backend.options,
            metric=manifest.metric,
            n_trials=manifest.budget.trials,
            run_dir=run.path,
            seed=manifest.seed,
            resume=True,
            warm_start=manifest.warm_start,
        )
        name = manifest.studies[0]
        search.run_dir_ = run.path
        search.study_name_ = name
        search._storage = storage
        search._collect(storage, name, load_study_info(storage, name))
        return search

    # ------------------------------------------------------------------ retrain
    def retrain(
        self,
        *,
        top_k: int | None = None,
        seeds: int = 1,
        epochs: str | int = "best",
        final_fit: bool = False,
        ensemble: bool | Literal["auto"] = "auto",
        bag: bool | Literal["auto"] = "auto",
        time_limit: float | str | None = "auto",
        pick: str = "best",
        rescore: int = 0,
        ensemble_from: int = 0,
    ) -> Predictor:
        """Retrain the best config(s) on train + validation, score once on test, save the model.

        Fills ``test_metrics_`` (test scores of the deployed model: the ensemble's, else the top-1
        config's mean over seeds), ``test_std_`` (spread over seeds; NaN for an ensemble),
        ``retrain_report_`` and ``predictor_``; returns the deployed :class:`automl.Predictor`: raw rows
        in, labels or values in original units out, the Keras model at ``.model``.

        What is deployed: ``ensemble="auto"`` (the default) averages the top 5 configs (3 when
        each is bagged; or the top ``top_k``) in one model when the search finished two or more, else the
        top-1 config; ``ensemble=True`` always averages the top ``top_k`` (default 5 or 3), ``False``
        deploys the top-1 config. The ensemble's test scores are in ``retrain_report_.ensemble``.
        ``final_fit`` deploys the top-1 config fitted again on every row, test included, after the
        honest test (see :mod:`automl.retrain`). ``bag="auto"`` (the default)
        retrains each config as the average of its K fold models when the search scored trials by K-fold
        cross-validation, instead of one model on train + validation; ``True`` bags always (5 folds
        after a validation-split search), ``False`` never.

        Time: ``time_limit`` (seconds, or a duration such as ``"20m"``; ``None`` for none) bounds the
        retrain; ``"auto"`` (the default) is the search's ``timeout`` (no limit after a search bounded by
        trials alone). The top-1 config's model is always trained; each further model (seed, ensemble
        member, final fit) only if its estimated time fits in what is left (skipped ones are in
        ``retrain_report_.skipped``), and a fit past the limit stops at its next batch. A winner stopped by
        the search's time budget replays its best epoch, so its retrain costs about its trial's time.
        ``retrain_report_.seconds`` is the retrain's wall time.

        Which config: ``pick="best"`` (the default) the best validation score; ``"smallest-within TOL"`` /
        ``"fastest-within TOL"`` the smallest (saved size) / fastest (latency at batch 1, measured again in
        this process first) config whose validation score is within TOL of the best, TOL in the metric's
        units (``0.005``) or a percentage of the best (``"1%"``); it needs a search with that objective
        (``objectives=``) and deploys one model unless ``top_k`` and ``ensemble=True`` ask for an average.
        ``retrain_report_.pick`` holds the picked and the best config's scores and footprints.
        ``rescore=N`` trains the top N configs once more with a second seed and ranks them by the mean of
        both validation scores before the top K are taken (a guard against the winner's curse on noisy
        data; ``retrain_report_.rescored`` holds both scores). ``ensemble_from=N`` chooses the ensemble's
        members among the top N configs by what each lowers the ensemble's validation loss, from a second
        fit of each (``retrain_report_.selection`` says what was chosen; see :mod:`automl.retrain`).
        """
        from automl.retrain import (
            check_pick,
            check_rescore,
            check_selection,
            quiet_for,
            retrain_study,
            search_budget,
        )
        from automl.store import study_space

        if not hasattr(self, "trials_"):
            raise UserError("retrain() needs a search: call fit() or AutoMLSearch.load() first")
        # Bad values stop before the data is loaded again.
        policy = RetrainPolicy(
            top_k=top_k, seeds=seeds, epochs=epochs, final_fit=final_fit, ensemble=ensemble, bag=bag,
            time_limit=time_limit, pick=pick, rescore=rescore, ensemble_from=ensemble_from,
        )  # fmt: skip
        check_pick(self.study_info_, policy.pick)
        check_rescore(self.study_info_, policy.rescore)
        check_selection(self.study_info_, policy.ensemble_from)
        manifest = read_manifest(self.run_dir_)
        dataset = getattr(self, "dataset_", None)
        if dataset is None:
            dataset = reload_dataset(manifest.datasets[0], manifest.seed)
            self.dataset_ = dataset
        space = study_space(manifest, self.study_info_)
        quiet = quiet_for(policy, self._storage, self.study_name_, dataset, space)
        report, predictor = retrain_study(
            dataset,
            self.trials_,
            self.study_info_,
            Path(self.run_dir_) / "models" / dataset.name,
            base_seed=self.seed,
            policy=policy,
            search_budget=search_budget(manifest.budget),
            quiet=quiet,
        )
        best = report.configs[0]
        self.retrain_report_ = report
        if report.ensemble:
            # One averaged model, one score: there is no spread over seeds to report.
            self.test_metrics_ = dict(report.ensemble["test"])
            self.test_std_ = dict.fromkeys(self.test_metrics_, math.nan)
        else:
            self.test_metrics_ = {name: best.mean(name) for name in best.runs[0].test}
            self.test_std_ = {name: best.spread(name) for name in best.runs[0].test}
        self.predictor_ = predictor
        return predictor

    # ------------------------------------------------------------------ predict
    def _predictor(self, method: str) -> Predictor:
        predictor: Predictor | None = self.__dict__.get("predictor_")
        if predictor is not None:
            return predictor
        dataset = self.__dict__.get("dataset_")
        run_dir = self.__dict__.get("run_dir_")
        if run_dir is not None and dataset is not None:
            folder = Path(run_dir) / "models" / dataset.name
            if (folder / "model.keras").exists():
                from automl.retrain import load_model

                self.predictor_ = load_model(run_dir, dataset.name)
                return self.predictor_
        raise UserError(
            f"{method}() needs the retrained model: call retrain() first (fit() searches; retrain() trains "
            "the best config on train + validation and scores it once on test)"
        )

    def predict(self, X: Any) -> Any:
        """Labels (as in the training data) or values (original units) for raw rows ``X``."""
        return self._predictor("predict").predict(X)

    def predict_proba(self, X: Any) -> Any:
        """Class probabilities ``(n, k)`` for raw rows ``X`` (classification only)."""
        return self._predictor("predict_proba").predict_proba(X)

    def score(self, X: Any, y: Any) -> float:
        """scikit-learn's default score of the retrained model on ``(X, y)``: accuracy for classification,
        R² for regression (higher is better either way)."""
        return self._predictor("score").score(X, y)

    # ------------------------------------------------------------------ report
    def report(self, output: str | Path | None = None) -> ReportPath:
        """Write the run's HTML report (default ``report.html`` in the run directory); returns its path.

        The report reads the run's storage and files only; in a notebook the returned path shows it inline.
        """
        from automl.report import write_report

        if not hasattr(self, "run_dir_"):
            raise UserError("report() needs a search: call fit() or AutoMLSearch.load() first")
        return write_report(self.run_dir_, output)


def _with_labels(data: Any, y: Any, target: str | None) -> tuple[Any, str | None]:
    """``fit(X, y)`` as ``fit((X, y))``, or a DataFrame ``X`` joined with its label column."""
    if y is None:
        return data, target
    if isinstance(data, str | os.PathLike):
        raise UserError(
            "fit(path, y): a file holds its own labels; name their column with target= instead of passing y"
        )
    if not isinstance(data, pd.DataFrame):
        return (data, y), target
    label = getattr(y, "name", None)
    name = target or (label if isinstance(label, str) else "target")
    if name in data.columns:
        raise UserError(f"fit(X, y): X already has a column {name!r}; pass target= another name for y")
    # By position, as scikit-learn pairs X and y (a Series' index would realign them).
    return data.assign(**{name: np.asarray(y).reshape(-1)}), name


#: the trial budget when neither trials nor a timeout are given.
DEFAULT_TRIALS = 20


def _resumed_stall(record: BudgetEntry, previous: BudgetEntry, *, given: bool) -> BudgetEntry:
    """A resumed run's stall rule: the one recorded unless another was ``given`` (and its tolerance
    unless another was given)."""
    if not given:
        record = replace(record, stall_trials=previous.stall_trials, stall_seconds=previous.stall_seconds)
    if record.stall_tolerance is None:
        record = replace(record, stall_tolerance=previous.stall_tolerance)
    return record


def _trial_budget(n_trials: int | str | None, timeout: float | None) -> int | None:
    """``n_trials`` as given; ``"auto"``: 20 trials without a timeout, else until the time is spent."""
    if n_trials == "auto":
        return DEFAULT_TRIALS if timeout is None else None
    if isinstance(n_trials, str | bool):
        raise UserError(
            "{n_trials} must be a number of trials or 'auto', not {given!r}",
            n_trials=Argument("n_trials"),
            given=n_trials,
        )
    return n_trials
