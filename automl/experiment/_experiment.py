"""Experiment: datasets × spaces searched with one backend under one budget, then compared and retrained.

    >>> import automl
    >>> exp = automl.Experiment.from_yaml("examples/experiments/offline_builtins.yaml")
    >>> exp.run().summary_            # doctest: +SKIP

One study per (dataset, space) in one storage, named by :func:`automl.store.study_name`; each is opened,
resumed and searched by the same launch path as :class:`automl.AutoMLSearch`
(:func:`automl.workers.prepare_run`, :func:`~automl.workers.prepare_study`,
:func:`~automl.workers.run_study`). The pairs are searched one after another, each by every worker.

Budget: with ``per: dataset`` every pair gets ``trials`` and ``timeout``. With ``per: total`` the trials
are split evenly up front (the first pairs take the remainder), and the time is shared as it goes: each
pair gets the time left divided by the pairs left, so time a finished pair did not use passes to the rest.
The clock starts at the call to :meth:`Experiment.run`: loading the data and opening the studies are spent
from the first pair's time (``per: dataset``) or from the total.
"""

from __future__ import annotations

import logging
import time
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from automl.engine import Budget
from automl.exceptions import Argument, FatalError, UserError
from automl.experiment._config import ExperimentConfig, parse_experiment
from automl.keras_backend import resumed_keras_backend, use_keras_backend
from automl.store import (
    BackendEntry,
    DatasetEntry,
    Environment,
    RunDir,
    RunManifest,
    SpaceEntry,
    split_files,
    write_manifest,
)
from automl.training import latency_note
from automl.workers import (
    RECYCLE_AFTER,
    PreparedRun,
    Slot,
    StudyLaunch,
    check_backend_fits,
    parse_devices,
    plan_slots,
    prepare_run,
    prepare_study,
    run_study,
    short_search,
)

if TYPE_CHECKING:
    from automl.datasets import Dataset
    from automl.report import ReportPath
    from automl.retrain import DatasetRetrain
    from automl.space import SearchSpace

__all__ = ["Experiment"]

log = logging.getLogger("automl.experiment")


def split_trials(total: int, pairs: int) -> list[int]:
    """``total`` trials shared by ``pairs`` searches as evenly as possible (the first take the remainder)."""
    base, extra = divmod(total, pairs)
    return [base + (1 if i < extra else 0) for i in range(pairs)]


class Experiment:
    """The searches of one experiment file, their leaderboards, the cross-dataset table and retraining.

    Args:
        config: A validated :class:`~automl.experiment._config.ExperimentConfig` (see :meth:`from_yaml`).
        run_dir: Folder of the run; default ``runs/<name>``.
        progress: A factory called with each study's name, returning its progress display; default none.
        checkpoint_dir: Where running trials keep their checkpoints, instead of the file's
            ``checkpoint_dir`` (default ``AUTOML_CHECKPOINT_DIR``, else ``checkpoints/`` in the run
            directory; a resumed run keeps the folder it recorded).
    """

    def __init__(
        self,
        config: ExperimentConfig,
        *,
        run_dir: str | Path | None = None,
        progress: Any = None,
        checkpoint_dir: str | Path | None = None,
        keras_backend: str | None = None,
    ) -> None:
        self.config = config
        self.run_dir = run_dir
        self.progress = progress
        self.checkpoint_dir = checkpoint_dir
        #: overrides the file's ``keras_backend:`` (the CLI's ``--keras-backend``)
        self.keras_backend = keras_backend

    @classmethod
    def from_yaml(
        cls,
        path: str | Path,
        *,
        run_dir: str | Path | None = None,
        progress: Any = None,
        keras_backend: str | None = None,
        checkpoint_dir: str | Path | None = None,
    ) -> Experiment:
        """Read and validate ``path``. Raises UserError (``file:line: key.path: message; fix``)."""
        return cls(
            parse_experiment(path),
            run_dir=run_dir,
            progress=progress,
            checkpoint_dir=checkpoint_dir,
            keras_backend=keras_backend,
        )

    # ------------------------------------------------------------------ run
    def _load_datasets(self) -> dict[str, Dataset]:
        from automl.datasets import load_dataset

        loaded = {}
        for i, spec in enumerate(self.config.datasets):
            try:
                loaded[spec.name] = load_dataset(
                    spec.source,
                    target=spec.target,
                    task=spec.task,
                    seed=self.config.seed,
                    name=spec.name,
                    persistence=spec.persistence,
                    split=spec.split,
                    validation=spec.validation,
                    test=spec.test,
                )
            except UserError as exc:
                raise exc.prefixed(f"{spec.where}: datasets.{i}: ") from None
        return loaded

    def _pairs(self, datasets: dict[str, Dataset]) -> list[tuple[Dataset, SearchSpace]]:
        from automl.engine import check_family

        pairs = [(d, s) for d in datasets.values() for s in self.config.spaces]
        for dataset, space in pairs:
            try:
                check_family(space, dataset)
            except UserError as exc:
                raise exc.prefixed(
                    f"{self.config.where.get('spaces', self.config.source)}: spaces: "
                ) from None
        return pairs

    def _metric(self, space: SearchSpace, dataset: Dataset) -> Any:
        from automl.metrics import get_metric

        try:
            return get_metric(self.config.metric or space.objective, dataset.task)
        except UserError as exc:
            where = self.config.where.get("metric", self.config.source)
            raise exc.prefixed(f"{where}: metric: ", f" (dataset {dataset.name!r})") from None

    def run(self, *, resume: bool = False, overwrite: bool = False) -> Experiment:
        """Search every (dataset, space) pair, write the leaderboards, retrain as the file says.

        Fills ``run_dir_``, ``studies_`` (study names), ``leaderboards_`` (dataset → space → table),
        ``summary_`` (the cross-dataset table), ``retrain_`` (list of
        :class:`~automl.retrain.DatasetRetrain`, empty with ``retrain: false``) and ``budgets_``.

        Raises:
            UserError: before any training (bad data, a space that does not fit a dataset, an existing run
                without ``resume``/``overwrite``, a changed space or dataset on resume).
            FatalError: a search stopped on failures; the other searches ran, nothing was retrained.
            KeyboardInterrupt: after the leaderboards of the finished trials are written.
        """
        from automl.backends import get_backend
        from automl.interrupts import InterruptGuard
        from automl.warmstart import plan_warm_start, resumed_warm_start

        started = time.time()  # the time budget covers set-up too: the user waits for all of it
        cfg = self.config
        asked = self.keras_backend or cfg.keras_backend
        if asked is not None:
            use_keras_backend(asked, source=self._keras_backend_source())  # now: KerasTuner loads Keras
        datasets = self._load_datasets()
        pairs = self._pairs(datasets)
        metrics = {(d.name, s.name): self._metric(s, d) for d, s in pairs}
        backend = get_backend(cfg.backend["name"])(
            algorithm=cfg.backend["algorithm"],
            pruner=cfg.backend["pruner"],
            seed=cfg.seed,
            options=cfg.backend.get("options"),
        )
        self._check_devices(backend, len(pairs))  # a user mistake: before the run directory exists
        warm = {space.name: plan_warm_start(cfg.warm_start, space, backend) for space in cfg.spaces}
        warm_setting = cfg.warm_start
        prepared = prepare_run(
            name=None if self.run_dir else cfg.name, run_dir=self.run_dir, default_name=cfg.name,
            storage=cfg.storage, resume=resume, overwrite=overwrite, kind="experiment",
            checkpoint_dir=self.checkpoint_dir or cfg.checkpoint_dir,
        )  # fmt: skip
        if prepared.previous is not None:
            warm_setting = resumed_warm_start(prepared.previous.warm_start, cfg.warm_start)
            keras_backend = resumed_keras_backend(
                prepared.previous.keras_backend, asked, source=self._keras_backend_source()
            )
        else:
            keras_backend = use_keras_backend(asked, source=self._keras_backend_source())
        trials = (
            split_trials(cfg.budget.trials, len(pairs))
            if cfg.budget.per == "total" and cfg.budget.trials is not None
            else [cfg.budget.trials] * len(pairs)
        )
        # Every study (and its baselines) is created before the first trial, so a mistake found while
        # opening one (e.g. a changed space on resume) stops the experiment before any training.
        launches = [
            prepare_study(
                prepared,
                dataset=dataset,
                space=space,
                backend=backend,
                metric=metrics[(dataset.name, space.name)],
                budget=Budget.of(cfg.budget, trials=n, timeout=cfg.budget.timeout),
                seed=cfg.seed,
                resume=resume,
                cv=cfg.cv,
                warm=warm[space.name],
                objectives=cfg.objectives,
            )
            for (dataset, space), n in zip(pairs, trials, strict=True)
        ]
        self.studies_ = [launch.name for launch in launches]
        self.budgets_ = {launch.name: launch.budget.trials for launch in launches}
        write_manifest(
            prepared.run,
            prepared.storage,
            self._manifest(prepared, datasets, warm_start=warm_setting, keras_backend=keras_backend),
        )
        self.run_dir_ = prepared.path
        handler = prepared.run.attach_log()
        fatal: list[str | FatalError] = []
        try:
            with InterruptGuard():
                for i, launch in enumerate(launches):
                    log.info(
                        "experiment %s: searching %s (%d/%d)", cfg.name, launch.name, i + 1, len(launches)
                    )
                    try:
                        self._search(launch, backend, prepared, i, len(launches), started)
                    except FatalError as exc:
                        log.warning("%s stopped: %s", launch.name, exc)
                        fatal += ["; "] if fatal else []
                        fatal += [f"{launch.name}: ", exc]  # its message keeps naming its arguments
        finally:
            self._collect()
            RunDir.detach_log(handler)
        if fatal:
            raise FatalError.of(*fatal, " (the other searches finished; nothing was retrained)")
        self.retrain_: list[DatasetRetrain] = []
        if cfg.retrain is not None:
            from automl.retrain import retrain_run

            self.retrain_ = retrain_run(prepared.path, policy=cfg.retrain)
        if cfg.report:
            try:
                self.report()
            except Exception as exc:  # the results are saved; a report problem must not hide them
                name = type(exc).__name__
                log.warning(
                    "no report written: %s: %s; retry with automl report %s", name, exc, prepared.path
                )
        return self

    def report(self, output: str | Path | None = None) -> ReportPath:
        """Write the run's HTML report (default ``report.html`` in the run directory); returns its path.

        In a notebook the returned path shows the report inline. ``run()`` writes it already unless the
        experiment file says ``report: false``.
        """
        from automl.report import write_report

        if not hasattr(self, "run_dir_"):
            raise UserError("report() needs a run: call run() first")
        return write_report(self.run_dir_, output)

    def _slots(self, trials: int | None, timeout: float | None) -> list[Slot]:
        """The device slots of one study's search (its budget decides whether ``auto`` pays)."""
        request = {k: v for k, v in self.config.devices.items() if k != "recycle_after"}
        return plan_slots(parse_devices(request), short=short_search(trials, timeout))

    def _check_devices(self, backend: Any, pairs: int) -> None:
        budget = self.config.budget
        trials = budget.trials if budget.per == "dataset" or budget.trials is None else budget.trials // pairs
        try:
            check_backend_fits(backend, self._slots(trials, budget.timeout))
        except UserError as exc:
            where = self.config.where.get("devices", self.config.source)
            raise exc.prefixed(f"{where}: devices: ") from None

    def _search(
        self, launch: StudyLaunch, backend: Any, prepared: PreparedRun, index: int, count: int, started: float
    ) -> None:
        """Search one study, by this process or the experiment's workers (each study by every worker), on
        the time :meth:`_clock` gives it."""
        cfg = self.config
        timeout, clock = self._clock(index, count, started)
        launch = replace(launch, budget=replace(launch.budget, timeout=timeout))
        run_study(
            launch, backend, prepared=prepared, slots=self._slots(launch.budget.trials, timeout),
            seed=cfg.seed, started=clock, progress=self.progress(launch.name) if self.progress else None,
            recycle_after=cfg.devices.get("recycle_after", RECYCLE_AFTER),
        )  # fmt: skip

    def _clock(self, index: int, count: int, started: float) -> tuple[float | None, float]:
        """Study ``index``'s seconds and when they start counting (``time.time()``).

        ``per: dataset``: the whole timeout, from the experiment's start for the first study (its set-up
        is spent from it) and from its own start for the others. ``per: total``: a fair share of what is
        left of the total, from now.
        """
        timeout = self.config.budget.timeout
        if timeout is None or self.config.budget.per == "dataset":
            return timeout, started if index == 0 else time.time()
        left = timeout - (time.time() - started)
        # A study that starts after the time is spent still gets a moment, to record why it stopped.
        return max(left / (count - index), 1e-3), time.time()

    def _keras_backend_source(self) -> Argument | str:
        if self.keras_backend is not None or "keras_backend" not in self.config.where:
            return Argument("keras_backend")
        return f"{self.config.where['keras_backend']}: keras_backend"

    def _manifest(
        self,
        prepared: PreparedRun,
        datasets: dict[str, Dataset],
        *,
        warm_start: str = "none",
        keras_backend: str = "tensorflow",
    ) -> RunManifest:
        """The run's manifest, which :mod:`automl.report`, retrain and a resume read back."""
        cfg = self.config
        return RunManifest(
            kind="experiment",
            name=prepared.path.name,
            source=str(Path(cfg.source).resolve()),
            datasets=tuple(
                DatasetEntry(
                    name=spec.name,
                    source=spec.source,
                    target=spec.target,
                    task=datasets[spec.name].task.value,
                    fingerprint=datasets[spec.name].fingerprint,
                    persistence=spec.persistence,
                    split=spec.split,
                    **split_files(validation=spec.validation, test=spec.test),
                )
                for spec in cfg.datasets
            ),
            spaces=tuple(SpaceEntry.of(s) for s in cfg.spaces),
            backend=BackendEntry(
                name=cfg.backend["name"],
                algorithm=cfg.backend["algorithm"],
                pruner=cfg.backend["pruner"],
                options=dict(cfg.backend.get("options") or {}),
            ),
            studies=tuple(self.studies_),
            metric=cfg.metric,
            budget=replace(cfg.budget, trials_per_study=dict(self.budgets_)),
            devices=dict(cfg.devices),
            storage=prepared.storage_label(),
            seed=cfg.seed,
            retrain=cfg.retrain,
            environment=Environment.current(),
            warm_start=warm_start,
            checkpoint_dir=None if prepared.checkpoint_dir is None else str(prepared.checkpoint_dir),
            keras_backend=keras_backend,
            # the workers each study's budget gives it (a share of a total time may differ from this)
            latency_measured=latency_note(
                len(self._slots(trials, cfg.budget.timeout)) for trials in set(self.budgets_.values())
            ),
        )

    # ------------------------------------------------------------------ results
    def _collect(self) -> None:
        """Leaderboards from the store (whatever finished), ``leaderboard.csv`` and ``summary.csv``."""
        from automl.report import across_datasets, run_leaderboards

        frames = run_leaderboards(self.run_dir_)
        self.leaderboards_: dict[str, dict[str, pd.DataFrame]] = {}
        for frame in frames:
            self.leaderboards_.setdefault(frame.attrs["dataset"], {})[frame.attrs["space"]] = frame
        self.summary_: pd.DataFrame = across_datasets(frames)
        run = RunDir(Path(self.run_dir_))
        tagged = [f.assign(dataset=f.attrs["dataset"], space=f.attrs["space"]) for f in frames]
        if tagged:
            table = pd.concat(tagged, ignore_index=True)
            table = table[["dataset", "space", *[c for c in table.columns if c not in ("dataset", "space")]]]
            with run.writing():
                run.leaderboard_file.write_text(table.to_csv(index=False), encoding="utf-8")
        with run.writing():
            (run.path / "summary.csv").write_text(self.summary_.to_csv(index=False), encoding="utf-8")

    def leaderboard(self, dataset: str, space: str | None = None) -> pd.DataFrame:
        """The leaderboard of ``dataset`` (and ``space``, needed when the experiment has several)."""
        boards = getattr(self, "leaderboards_", {}).get(dataset)
        if not boards:
            raise UserError(f"no leaderboard for dataset {dataset!r}; run() the experiment first")
        if space is None:
            if len(boards) > 1:
                raise UserError(f"dataset {dataset!r} was searched with {', '.join(boards)}: give space=")
            return next(iter(boards.values()))
        return boards[space]
