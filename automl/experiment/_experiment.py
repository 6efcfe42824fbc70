"""Experiment: datasets × spaces searched with one backend under one budget, then compared and retrained.

    >>> import automl
    >>> exp = automl.Experiment.from_yaml("examples/experiments/offline_builtins.yaml")
    >>> exp.run().summary_            # doctest: +SKIP

One study per (dataset, space) in one storage, named by :func:`automl.store.study_name`; each is opened,
resumed and searched by the same functions as :class:`automl.AutoMLSearch` (:func:`automl.engine.open_study`,
:func:`automl.engine.run_session`). The pairs run one after another in this process (one local slot).

Budget: with ``per: dataset`` every pair gets ``trials`` and ``timeout``. With ``per: total`` the trials
are split evenly up front (the first pairs take the remainder), and the time is shared as it goes: each
pair gets the time left divided by the pairs left, so time a finished pair did not use passes to the rest.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from automl.engine import Budget
from automl.exceptions import FatalError, UserError
from automl.experiment._config import ExperimentConfig, parse_experiment
from automl.store import (
    BackendEntry,
    BudgetEntry,
    DatasetEntry,
    Environment,
    RetrainEntry,
    RunDir,
    RunManifest,
    SpaceEntry,
    mask_password,
    prepare_run_dir,
    read_manifest,
    resolve_run_path,
    split_files,
    storage_url_for,
    study_name,
    write_manifest,
)

if TYPE_CHECKING:
    from automl.datasets import Dataset
    from automl.engine import Progress, Slot
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
    """

    def __init__(
        self,
        config: ExperimentConfig,
        *,
        run_dir: str | Path | None = None,
        progress: Any = None,
    ) -> None:
        self.config = config
        self.run_dir = run_dir
        self.progress = progress

    @classmethod
    def from_yaml(
        cls, path: str | Path, *, run_dir: str | Path | None = None, progress: Any = None
    ) -> Experiment:
        """Read and validate ``path``. Raises UserError (``file:line: key.path: message; fix``)."""
        return cls(parse_experiment(path), run_dir=run_dir, progress=progress)

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
                raise UserError(f"{spec.where}: datasets.{i}: {exc}") from None
        return loaded

    def _pairs(self, datasets: dict[str, Dataset]) -> list[tuple[Dataset, SearchSpace]]:
        from automl.engine import check_family

        pairs = [(d, s) for d in datasets.values() for s in self.config.spaces]
        for dataset, space in pairs:
            try:
                check_family(space, dataset)
            except UserError as exc:
                raise UserError(
                    f"{self.config.where.get('spaces', self.config.source)}: spaces: {exc}"
                ) from None
        return pairs

    def _metric(self, space: SearchSpace, dataset: Dataset) -> Any:
        from automl.metrics import get_metric

        try:
            return get_metric(self.config.metric or space.objective, dataset.task)
        except UserError as exc:
            where = self.config.where.get("metric", self.config.source)
            raise UserError(f"{where}: metric: {exc} (dataset {dataset.name!r})") from None

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
        from automl.engine import open_study
        from automl.interrupts import InterruptGuard
        from automl.store import open_storage
        from automl.warmstart import plan_warm_start, resumed_warm_start, warm_start_study

        cfg = self.config
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
        path = resolve_run_path(
            name=None if self.run_dir else cfg.name, run_dir=self.run_dir, default_name=cfg.name
        )
        run = prepare_run_dir(path, resume=resume, overwrite=overwrite)
        if resume and run.has_manifest and read_manifest(run).kind != "experiment":
            raise UserError(
                f"{run.path} holds a single search, not an experiment; resume it with automl search"
            )
        if resume and run.has_manifest:
            warm_setting = resumed_warm_start(read_manifest(run).warm_start, cfg.warm_start)
        url = storage_url_for(run.path, cfg.storage)
        storage = open_storage(url)
        local = cfg.storage in (None, "", "sqlite")
        trials = (
            split_trials(cfg.budget.trials, len(pairs))
            if cfg.budget.per == "total" and cfg.budget.trials is not None
            else [cfg.budget.trials] * len(pairs)
        )
        # Every study (and its baselines) is created before the first trial, so a mistake found while
        # opening one (e.g. a changed space on resume) stops the experiment before any training.
        opened = []
        for (dataset, space), n in zip(pairs, trials, strict=True):
            metric = metrics[(dataset.name, space.name)]
            name = study_name(run.path.name, dataset.name, space.name, backend.name, backend.algorithm)
            study, info = open_study(
                storage, name, space=space, dataset=dataset, metric=metric.name, direction=metric.direction,
                backend=backend, seed=cfg.seed, resume=resume, local=local, cv=cfg.cv,
                timed=cfg.budget.timeout is not None,
            )  # fmt: skip
            warm_start_study(
                study, backend, space, warm[space.name], dataset=dataset.name,
                fingerprint=dataset.fingerprint, n_trials=n,
            )  # fmt: skip
            opened.append((dataset, space, name, study, info, n))
        self.studies_ = [o[2] for o in opened]
        self.budgets_ = {o[2]: o[5] for o in opened}
        write_manifest(run, storage, self._manifest(run, url, datasets, warm_start=warm_setting))
        self.run_dir_ = run.path
        handler = run.attach_log()
        fatal: list[str] = []
        started = time.monotonic()
        try:
            with InterruptGuard():
                for i, (dataset, space, name, study, info, n) in enumerate(opened):
                    budget = Budget(
                        trials=n,
                        timeout=self._timeout(i, len(opened), started),
                        trial_timeout=cfg.budget.trial_timeout,
                        max_consecutive_failures=cfg.budget.max_consecutive_failures,
                    )
                    log.info("experiment %s: searching %s (%d/%d)", cfg.name, name, i + 1, len(opened))
                    progress: Progress | None = self.progress(name) if self.progress else None
                    try:
                        self._search_pair(backend, study, info, space, dataset, budget, run, url, progress)
                    except FatalError as exc:
                        log.warning("%s stopped: %s", name, exc)
                        fatal.append(f"{name}: {exc}")
        finally:
            self._collect()
            RunDir.detach_log(handler)
        if fatal:
            raise FatalError("; ".join(fatal) + " (the other searches finished; nothing was retrained)")
        self.retrain_: list[DatasetRetrain] = []
        if cfg.retrain is not None:
            from automl.retrain import retrain_run

            self.retrain_ = retrain_run(
                run.path, top_k=cfg.retrain.top_k, seeds=cfg.retrain.seeds, epochs=cfg.retrain.epochs,
                final_fit=cfg.retrain.final_fit, ensemble=cfg.retrain.ensemble, bag=cfg.retrain.bag,
            )  # fmt: skip
        if cfg.report:
            try:
                self.report()
            except Exception as exc:  # the results are saved; a report problem must not hide them
                name = type(exc).__name__
                log.warning("no report written: %s: %s; retry with automl report %s", name, exc, run.path)
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
        from automl.engine import parse_devices, plan_slots
        from automl.engine._devices import short_search

        request = {k: v for k, v in self.config.devices.items() if k != "recycle_after"}
        return plan_slots(parse_devices(request), short=short_search(trials, timeout))

    def _check_devices(self, backend: Any, pairs: int) -> None:
        from automl.engine._devices import check_backend_fits

        budget = self.config.budget
        trials = budget.trials if budget.per == "dataset" or budget.trials is None else budget.trials // pairs
        try:
            check_backend_fits(backend, self._slots(trials, budget.timeout))
        except UserError as exc:
            where = self.config.where.get("devices", self.config.source)
            raise UserError(f"{where}: devices: {exc}") from None

    def _search_pair(
        self,
        backend: Any,
        study: Any,
        info: Any,
        space: SearchSpace,
        dataset: Dataset,
        budget: Budget,
        run: RunDir,
        url: str,
        progress: Progress | None,
    ) -> None:
        """One study's search: in this process, or by the experiment's workers, which all take this study
        (studies are searched one after another, each by every worker)."""
        from automl.engine import Chief, Supervisor, run_session
        from automl.engine._devices import RECYCLE_AFTER, in_process
        from automl.engine._join import record_window
        from automl.store._records import HEARTBEAT_INTERVAL

        cfg = self.config
        slots = self._slots(budget.trials, budget.timeout)
        window = record_window(study, budget, HEARTBEAT_INTERVAL)  # for workers joining from elsewhere
        if in_process(slots):
            run_session(
                backend,
                study,
                info,
                space,
                dataset,
                budget,
                seed=cfg.seed,
                progress=progress,
                run_dir=run.path,
                deadline=window.deadline,
            )
            return
        Supervisor(
            study=study, info=info, url=url, slots=slots, budget=budget, run_dir=run.path,
            recycle_after=cfg.devices.get("recycle_after", RECYCLE_AFTER), progress=progress,
            chief=Chief.of(backend), since=window.since,
        ).run()  # fmt: skip

    def _timeout(self, index: int, count: int, started: float) -> float | None:
        """This pair's seconds: the whole timeout per dataset, or a fair share of what is left in total."""
        timeout = self.config.budget.timeout
        if timeout is None or self.config.budget.per == "dataset":
            return timeout
        left = timeout - (time.monotonic() - started)
        # A pair that starts after the time is spent still gets a moment, so it records why it stopped.
        return max(left / (count - index), 1e-3)

    def _manifest(
        self, run: RunDir, url: str, datasets: dict[str, Dataset], *, warm_start: str = "none"
    ) -> RunManifest:
        """The run's manifest, which :mod:`automl.report`, retrain and a resume read back."""
        cfg = self.config
        budget = cfg.budget
        return RunManifest(
            kind="experiment",
            name=run.path.name,
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
            budget=BudgetEntry(
                trials=budget.trials,
                timeout=budget.timeout,
                per=budget.per,
                trial_timeout=budget.trial_timeout,
                max_consecutive_failures=budget.max_consecutive_failures,
                trials_per_study=dict(self.budgets_),
            ),
            devices=dict(cfg.devices),
            storage="sqlite" if cfg.storage in (None, "", "sqlite") else mask_password(url),
            seed=cfg.seed,
            retrain=None
            if cfg.retrain is None
            else RetrainEntry(
                top_k=cfg.retrain.top_k,
                seeds=cfg.retrain.seeds,
                epochs=cfg.retrain.epochs,
                final_fit=cfg.retrain.final_fit,
                ensemble=cfg.retrain.ensemble,
                bag=cfg.retrain.bag,
            ),
            environment=Environment.current(),
            warm_start=warm_start,
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
            run.leaderboard_file.write_text(table.to_csv(index=False), encoding="utf-8")
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
