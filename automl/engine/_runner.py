"""One trial, from a sampled config to a :class:`TrialOutcome`: the same for every backend.

The runner owns what happens around :func:`automl.train`: the trial's seed, its time limit (the per-trial
timeout or what is left of the search's wall-clock budget, whichever comes first), the pruning hook, and
the translation of how training ended into a trial state and a :class:`~automl.store.TrialRecord`:

* finished → COMPLETE with the best validation score;
* stopped by the pruning hook → PRUNED, with the last reported score;
* stopped by the search's deadline after at least one epoch → COMPLETE, ``stopped_by="budget"``;
* NaN loss, out of memory twice, the per-trial timeout, or any exception → FAIL with the reason.

A COMPLETE trial's model is then measured where it was trained (its saved size and prediction latency,
:class:`automl.training.Footprint`), after ``fit_seconds`` stopped counting. A pruned one is not: it never
competes for deployment, pruning is there to save its time, and a config's footprint can be measured from
the config alone later. Measuring never fails a trial.

A user mistake (:class:`~automl.exceptions.UserError`) is not a trial failure: it propagates.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import socket
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from automl.exceptions import Unavailable, UserError
from automl.outcomes import FailureKind, StopReason
from automl.store import TrialRecord, TrialState, trial_seed

if TYPE_CHECKING:
    from pathlib import Path

    from automl.datasets import Dataset
    from automl.engine._protocol import Trainer
    from automl.training import TrainResult, TrialCheckpoint

__all__ = ["ReportHook", "TrialOutcome", "TrialRunner"]

log = logging.getLogger("automl.runner")

#: called after each epoch with (epoch, validation score); returns True to prune the trial.
ReportHook = Callable[[int, float], bool]


@dataclass(frozen=True)
class OverLimit:
    """A config over a limit of the search (:mod:`automl.engine._limits`): the limit's name
    (``max_params``, ``max_latency_ms``), how far over it is (relative: ``0.5`` is 50 % over) and why."""

    name: str
    excess: float
    reason: str


@dataclass
class TrialOutcome:
    state: TrialState
    score: float | None
    record: TrialRecord
    result: TrainResult | None = None
    #: a SKIPPED config: the limit it is over (see :mod:`automl.engine._limits`)
    over_limit: OverLimit | None = None


def _default_trainer() -> Trainer:
    from automl.training import train

    return train


class TrialRunner:
    """Trains configs on one dataset, loaded once, for one search.

    Args:
        dataset: The preprocessed dataset (only train and validation are read).
        metric: Objective metric name.
        seed: Base seed; trial ``n`` trains with :func:`automl.store.trial_seed` (``seed + n``).
        trial_timeout: Seconds after which a trial is ended as failed (``None``: no limit).
        deadline: ``time.monotonic()`` value at which the search's wall-clock budget ends.
        device: Description of the device this process trains on (recorded per trial).
        family: The model builder (``mlp`` or ``cnn``); default inferred from the config.
        steps_per_execution: Batches per compiled step (default the model package's).
        trainer: What trains a config (default :func:`automl.train`); tests pass a stand-in that needs
            no TensorFlow, so the engine's rules are checked in milliseconds.
        cv: Folds of K-fold cross-validation on the training + validation rows (0: the validation split).
            A trial's score is then the mean of its folds' best scores, reported to the pruner as a
            running mean after each fold (step = fold number, from 1); its ``best_epoch`` is the folds'
            median, the epoch count a retrain replays. A Hyperband round (a given ``model``) trains on
            the split.
        checkpoints: The folder of the study's trial checkpoints (None: none kept). A trial saves its
            training state in ``trial-<n>`` every ``checkpoint_every`` seconds (default
            :data:`~automl.training.CHECKPOINT_EVERY_SECONDS`); a retry of trial ``n`` resumes from it,
            with trial ``n``'s seed. A trial that ends (finished, pruned, failed by its config) deletes it.
    """

    def __init__(
        self,
        dataset: Dataset,
        *,
        metric: str,
        seed: int = 0,
        trial_timeout: float | None = None,
        deadline: float | None = None,
        device: str = "cpu",
        family: str | None = None,
        steps_per_execution: int | None = None,
        trainer: Trainer | None = None,
        cv: int = 0,
        checkpoints: Path | None = None,
        checkpoint_every: float | None = None,
    ) -> None:
        self.dataset = dataset
        self.checkpoints = checkpoints
        self.checkpoint_every = checkpoint_every
        self.cv = int(cv or 0)
        self._folds: list[Dataset] | None = None
        self.trainer = trainer
        self.metric = metric
        self.seed = seed
        self.trial_timeout = trial_timeout
        self.deadline = deadline
        self.device = device
        self.worker = f"{socket.gethostname()}:{os.getpid()}"
        self.family = family
        self.steps_per_execution = steps_per_execution

    def build_model(self, config: dict[str, Any]) -> Any:
        """A fresh compiled model for ``config`` on this dataset, built as :func:`automl.train` builds it."""
        from automl.model import DEFAULT_STEPS_PER_EXECUTION, build_model

        return build_model(
            config,
            self.dataset,
            family=self.family,
            steps_per_execution=self.steps_per_execution or DEFAULT_STEPS_PER_EXECUTION,
        )

    def _extra(self) -> dict[str, Any]:
        return {} if self.steps_per_execution is None else {"steps_per_execution": self.steps_per_execution}

    @property
    def folds(self) -> list[Dataset]:
        """The cross-validation folds, cut once per process (seeded by the dataset: every process agrees)."""
        if self._folds is None:
            from automl.datasets import cv_folds

            self._folds = cv_folds(self.dataset, self.cv)
        return self._folds

    def _train_folds(
        self,
        train: Trainer,
        config: dict[str, Any],
        seed: int,
        limit: float | None,
        report: ReportHook | None,
        pruned: dict[str, Any],
    ) -> TrainResult:
        """Train ``config`` on each fold in turn; one result whose score is the mean over the folds.

        A fold that fails (NaN loss, out of memory, the time limit before an epoch) ends the trial with
        that failure. The time limit spans all folds: a fold cut short by it counts with its best epoch so
        far and no later fold starts.
        """
        end = None if limit is None else time.monotonic() + limit
        results: list[TrainResult] = []
        for index, fold in enumerate(self.folds):
            left = None if end is None else max(end - time.monotonic(), 0.0)
            result = train(
                config, fold, seed=seed, metric=self.metric, time_limit=left, family=self.family,
                **self._extra(),
            )  # fmt: skip
            results.append(result)
            if result.failure is not None and not (result.failure == "timeout" and _scored(result)):
                break
            pruned["folds"].append(float(result.best_score))
            mean = statistics.fmean(pruned["folds"])
            pruned["score"] = mean
            if report is not None and report(index + 1, mean):
                pruned["flag"] = True
                break
            if result.failure is not None:  # the time limit: no later fold starts
                break
        return _combined(results, pruned["folds"])

    def _time_limit(self) -> tuple[float | None, bool]:
        """Seconds this trial may run, and whether the search deadline (not the trial timeout) sets it."""
        left = None if self.deadline is None else max(self.deadline - time.monotonic(), 0.0)
        if self.trial_timeout is None:
            return left, left is not None
        if left is not None and left < self.trial_timeout:
            return left, True
        return self.trial_timeout, False

    def _released(self) -> contextlib.AbstractContextManager[None]:
        """Where Keras trains the trial: its traced gradients are freed when it ends (flat worker memory)."""
        if "keras" not in sys.modules:  # a stand-in trainer, with nothing traced
            return contextlib.nullcontext()
        from automl._keras import traced_gradients_released

        return traced_gradients_released()

    def _checkpoint(self, original: int) -> TrialCheckpoint | None:
        """Where trial ``original`` (and its retries) keeps its training state; None without a folder or
        with a stand-in trainer (it keeps none)."""
        if self.checkpoints is None or self.trainer is not None:
            return None
        from automl.training import CHECKPOINT_EVERY_SECONDS, TrialCheckpoint

        every = CHECKPOINT_EVERY_SECONDS if self.checkpoint_every is None else self.checkpoint_every
        return TrialCheckpoint(self.checkpoints / f"trial-{original}", every=every)

    def _report_saved_epochs(self, checkpoint: TrialCheckpoint, report: ReportHook) -> None:
        """A resumed trial's epochs trained before the resume, reported as if just trained: the study then
        holds one intermediate value per epoch. The pruner's answer was the earlier try's: ignored."""
        state = checkpoint.state()
        if state is None:
            return
        from automl.metrics import get_metric

        objective = get_metric(self.metric, self.dataset.task).name
        for epoch, score in enumerate(
            state["monitor"]["history"].get(f"val_{objective}", [])[: state["epoch"]]
        ):
            if score is not None and math.isfinite(score):
                report(epoch + 1, float(score))

    def run(
        self,
        config: dict[str, Any],
        *,
        number: int,
        report: ReportHook | None = None,
        params: dict[str, Any] | None = None,
        model: Any = None,
        initial_epoch: int = 0,
        epochs: int | None = None,
        retry_of: int | None = None,
    ) -> TrialOutcome:
        """Train ``config`` as trial ``number``; never raises for a failing trial (see module doc).

        ``retry_of``: the trial this one tries again (its process died or was stopped): the same seed, and
        its checkpoint's epochs are not trained again.
        """
        train = self.trainer if self.trainer is not None else _default_trainer()
        original = number if retry_of is None else retry_of
        seed = trial_seed(self.seed, original)
        checkpoint = self._checkpoint(original) if model is None and not self.cv else None
        limit, by_deadline = self._time_limit()
        pruned: dict[str, Any] = {"flag": False, "score": None, "folds": []}

        def on_epoch(epoch: int, score: float) -> bool:
            pruned["score"] = score
            if report is not None and report(epoch, score):
                pruned["flag"] = True
                return True
            return False

        record = TrialRecord(
            number=number,
            state=TrialState.FAIL,
            score=None,
            params=dict(params if params is not None else config),
            config=dict(config),
            seed=seed,
            device=self.device,
            worker=self.worker,
            retry_of=retry_of,
        )
        started = time.perf_counter()
        extra = self._extra() if checkpoint is None else {**self._extra(), "checkpoint": checkpoint}
        if checkpoint is not None and report is not None:
            self._report_saved_epochs(checkpoint, report)
        try:
            with self._released():
                if self.cv and model is None:
                    result = self._train_folds(train, config, seed, limit, report, pruned)
                else:
                    result = train(
                        config,
                        self.dataset,
                        epochs=epochs,
                        seed=seed,
                        metric=self.metric,
                        model=model,
                        initial_epoch=initial_epoch,
                        time_limit=limit,
                        on_epoch=on_epoch,
                        family=self.family,
                        **extra,
                    )
        except (UserError, Unavailable):  # not the config's fault: the storage or the disk is gone
            raise
        except Exception as exc:  # a bug or a TensorFlow error in one config must not end the search
            if checkpoint is not None:
                checkpoint.delete()
            log.exception("trial %d raised", number)
            kind = FailureKind.STORAGE if _storage_failed(exc) else FailureKind.ERROR
            first = str(exc).splitlines()[0] if str(exc) else ""
            record.failure = f"{kind.value}: {type(exc).__name__}: {first}"[:500]
            record.failure_kind = kind
            record.stopped_by = StopReason.FAILURE.value
            record.fit_seconds = time.perf_counter() - started
            return TrialOutcome(TrialState.FAIL, None, record)
        if checkpoint is not None:
            checkpoint.delete()  # the trial ended: nothing resumes it
            record.resumed_at = result.resumed_at or None
        history: dict[str, list[float | None]] = {key: list(values) for key, values in result.history.items()}
        record.history = history
        record.best_epoch = result.best_epoch
        record.epochs_run = result.epochs_run
        record.fit_seconds = result.fit_seconds
        record.n_params = result.n_params
        record.effective_batch_size = result.effective_batch_size
        if self.cv and model is None:
            record.cv_scores = list(pruned["folds"])
        score = (
            result.best_score if result.best_score is not None and math.isfinite(result.best_score) else None
        )
        if pruned["flag"]:
            record.stopped_by = StopReason.PRUNED.value
            record.state = TrialState.PRUNED
            record.score = pruned["score"]
            return TrialOutcome(TrialState.PRUNED, pruned["score"], record, result)
        if result.failure == FailureKind.TIMEOUT and by_deadline and score is not None:
            record.stopped_by = StopReason.BUDGET.value
        elif result.failure is not None:
            record.stopped_by = StopReason.FAILURE.value
            record.failure_kind = FailureKind(result.failure)
            record.failure = record.failure_kind.value + (
                f": {result.failure_detail}" if result.failure_detail else ""
            )
            if result.failure == FailureKind.TIMEOUT and by_deadline:
                record.failure_kind = FailureKind.BUDGET
                record.failure = "budget: the search's time budget ran out before the first epoch ended"
            return TrialOutcome(TrialState.FAIL, None, record, result)
        else:
            record.stopped_by = result.stopped_by
        record.state = TrialState.COMPLETE
        record.score = score
        if score is None:
            record.state = TrialState.FAIL
            record.failure_kind = FailureKind.NO_SCORE
            record.failure = "no_score: training ended without a finite validation score"
            return TrialOutcome(TrialState.FAIL, None, record, result)
        self._measure(record, result.model)
        return TrialOutcome(TrialState.COMPLETE, score, record, result)

    def _measure(self, record: TrialRecord, model: Any) -> None:
        """``model``'s footprint into ``record``; none without a model (a stand-in trainer) or once the
        search's time is up. A failure is one warning line: the trial itself went well."""
        from automl.training import FOOTPRINT_SECONDS, measure_footprint

        left = FOOTPRINT_SECONDS if self.deadline is None else self.deadline - time.monotonic()
        if model is None or left <= 0:
            return
        try:
            footprint = measure_footprint(model, self.dataset, seconds=min(left, FOOTPRINT_SECONDS))
        except Exception as exc:
            first = str(exc).splitlines()[0] if str(exc) else ""
            log.warning("trial %d: footprint not measured: %s: %s", record.number, type(exc).__name__, first)
            return
        record.size_bytes = footprint.size_bytes
        record.latency_ms = footprint.latency_ms
        record.latency_ms_256 = footprint.latency_ms_256


def _storage_failed(exc: BaseException) -> bool:
    """Whether ``exc`` came from the storage (a lost connection, a database restart), not the config.

    Optuna wraps SQLAlchemy's errors in its own ``StorageInternalError``.
    """
    import optuna

    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, optuna.exceptions.StorageInternalError):
            return True
        if type(seen).__module__.split(".")[0] in ("sqlalchemy", "psycopg2", "psycopg", "sqlite3"):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _scored(result: TrainResult) -> bool:
    return result.best_score is not None and math.isfinite(result.best_score)


def _combined(results: list[TrainResult], scores: list[float]) -> TrainResult:
    """The folds' results as one: the mean score, the median best epoch, the time of all folds, the first
    fold's history (its curve, with its epoch count: the report reads them as a pair); a failure kept."""
    last = results[-1]
    if not scores:
        return last
    return replace(
        last,
        history=results[0].history,
        best_score=statistics.fmean(scores),
        best_epoch=max(1, round(statistics.median(r.best_epoch for r in results if _scored(r)))),
        epochs_run=results[0].epochs_run,
        fit_seconds=sum(r.fit_seconds for r in results),
    )
