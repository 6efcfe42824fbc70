"""SearchSession: one study searched under one budget, the part every backend shares.

It implements :class:`automl.engine.Session`, the protocol backends are typed against. A backend asks
the session whether to go on (:meth:`should_stop`), trains through it (:meth:`run_trial`) and tells it
when a trial is recorded (:meth:`trial_finished`). The session counts
the budget from the store (``n_trials`` is the number of finished, i.e. complete or pruned, trials
in the whole study, so a resumed run continues to N), watches the wall clock, counts consecutive
failures and feeds the progress display.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from automl import interrupts
from automl.engine._progress import NullProgress, Progress, ProgressState
from automl.engine._protocol import ReservedTrial
from automl.engine._runner import ReportHook, TrialOutcome, TrialRunner
from automl.exceptions import FatalError
from automl.store import StudyInfo, TrialRecord, TrialState, finish_reserved_trial, reserve_trial

if TYPE_CHECKING:
    import optuna

    from automl.space import SearchSpace

__all__ = ["Budget", "SearchSession"]

log = logging.getLogger("automl.session")


@dataclass(frozen=True)
class Budget:
    """How much searching to do.

    Args:
        trials: Finished (complete + pruned) trials the study should hold; None for no limit.
        timeout: Seconds of wall clock for this invocation; None for no limit.
        trial_timeout: Seconds after which one trial is ended as failed.
        max_consecutive_failures: This many failed trials in a row stop the search (FatalError).
    """

    trials: int | None = None
    timeout: float | None = None
    trial_timeout: float | None = None
    max_consecutive_failures: int = 5

    def __post_init__(self) -> None:
        from automl.exceptions import UserError

        if self.trials is None and self.timeout is None:
            raise UserError("the search needs a budget: give `n_trials`, `timeout` (seconds), or both")
        # Named as AutoMLSearch's caller wrote them (``trials`` is ``n_trials`` there); the CLI says flags.
        if self.trials is not None and self.trials < 1:
            raise UserError(f"`n_trials` must be at least 1, but got {self.trials}")
        if self.timeout is not None and self.timeout <= 0:
            raise UserError(f"`timeout` must be positive seconds, but got {self.timeout}")
        if self.trial_timeout is not None and self.trial_timeout <= 0:
            raise UserError(f"`trial_timeout` must be positive seconds, but got {self.trial_timeout}")


class SearchSession:
    """The shared machinery of searching one study (see module doc)."""

    def __init__(
        self,
        *,
        study: optuna.Study,
        info: StudyInfo,
        space: SearchSpace,
        runner: TrialRunner,
        budget: Budget,
        progress: Progress | None = None,
        run_dir: Path | None = None,
        max_trials_here: int | None = None,
        since: datetime | None = None,
        deadline: float | None = None,
    ) -> None:
        self.study = study
        #: the run directory (``runs/<name>``), where a backend may keep its own files; None outside a run.
        self.run_dir = run_dir
        self.info = info
        self.space = space
        self.runner = runner
        self.budget = budget
        self.progress = progress or NullProgress()
        self.started = time.monotonic()
        self.deadline = None if budget.timeout is None else self.started + budget.timeout
        if deadline is not None:
            # The search's deadline was fixed (and recorded for other processes) before this session
            # started; the time spent getting here counts against it.
            self.deadline = self.started + max(deadline - time.time(), 0.0)
        runner.deadline = self.deadline
        self.consecutive_failures = 0
        self.finished_here = 0
        #: trials this process records before it stops (a worker is recycled after so many; None: no limit)
        self.max_trials_here = max_trials_here
        self.trials_here = 0
        #: the fewest seconds one epoch of a trial took here (with its share of the model's building): a
        #: trial started with less time left cannot finish an epoch before the deadline.
        self.shortest_epoch: float | None = None
        #: failures in a row count from here, over every process searching the study (a resumed run
        #: starts a fresh streak).
        self.since = since or datetime.now()
        self.fatal: FatalError | None = None
        records = [TrialRecord.from_frozen(t) for t in study.get_trials(deepcopy=False)]
        self.state = ProgressState.of_records(
            records, study=study.study_name, metric=info.metric, direction=info.direction,
            trial_budget=budget.trials, timeout=budget.timeout, started=self.started,
        )  # fmt: skip

    @property
    def maximize(self) -> bool:
        return self.info.direction == "maximize"

    @property
    def trial_budget(self) -> int | None:
        return self.budget.trials

    def _best(self, scores: list[float | None]) -> float | None:
        values = [s for s in scores if s is not None]
        if not values:
            return None
        return max(values) if self.maximize else min(values)

    def finished_count(self, *, including: int | None = None) -> int:
        """Complete + pruned trials in the whole study (all workers), read from the store.

        ``including``: a trial number to count even if the store has not marked it finished yet (Optuna
        sets a trial's state only after its objective, which reports it, returns).
        """
        from optuna.trial import TrialState as OptunaState

        done = self.study.get_trials(deepcopy=False, states=(OptunaState.COMPLETE, OptunaState.PRUNED))
        numbers = {t.number for t in done}
        if including is not None:
            numbers.add(including)
        return len(numbers)

    def trials_left(self) -> int | None:
        return None if self.budget.trials is None else max(self.budget.trials - self.finished_count(), 0)

    def time_left(self) -> float | None:
        return None if self.deadline is None else max(self.deadline - time.monotonic(), 0.0)

    @property
    def worker(self) -> str:
        return self.runner.worker

    def should_stop(self) -> bool:
        """Whether to start no new trial. Raises KeyboardInterrupt if Ctrl-C was pressed."""
        interrupts.check()
        if self.fatal is not None:
            return True
        if self.max_trials_here is not None and self.trials_here >= self.max_trials_here:
            return True
        if self.trials_left() == 0:
            return True
        left = self.time_left()
        return left is not None and left <= (self.shortest_epoch or 0.0)

    def start(self) -> None:
        self.progress.start(self.state)

    def reserve_trial(
        self, params: dict[str, Any], distributions: dict[str, Any], attrs: dict[str, Any] | None = None
    ) -> ReservedTrial:
        """Create a RUNNING trial in the store; its number (hence its seed) is the storage's."""
        trial_id, number = reserve_trial(
            self.study,
            params,
            distributions,
            {**(attrs or {}), "device": self.runner.device, "worker": self.runner.worker},
        )
        return ReservedTrial(trial_id=trial_id, number=number)

    def finish_trial(
        self, reserved: ReservedTrial, record: TrialRecord, extra: dict[str, Any] | None = None
    ) -> None:
        """Write a reserved trial's outcome; per-epoch validation scores become intermediate values."""
        extra = dict(extra or {})
        first = int(extra.get("initial_epoch", 0))
        scores = record.history.get(f"val_{self.info.metric}", [])
        intermediate = {
            first + i + 1: float(s) for i, s in enumerate(scores) if s is not None and math.isfinite(s)
        }
        finish_reserved_trial(
            self.study,
            reserved.trial_id,
            state=record.state,
            value=record.score if record.state is TrialState.COMPLETE else None,
            intermediate=intermediate,
            user_attrs={**record.user_attrs(), **extra},
        )

    def build_model(self, config: dict[str, Any]) -> Any:
        return self.runner.build_model(config)

    def run_trial(
        self,
        config: dict[str, Any],
        *,
        number: int,
        report: ReportHook | None = None,
        params: dict[str, Any] | None = None,
        model: Any = None,
        initial_epoch: int = 0,
        epochs: int | None = None,
    ) -> TrialOutcome:
        """Train one config (see :class:`TrialRunner`); record it with :meth:`trial_finished` afterwards."""
        self.progress.trial_started(number)
        return self.runner.run(
            config,
            number=number,
            report=report,
            params=params,
            model=model,
            initial_epoch=initial_epoch,
            epochs=epochs,
        )

    def trial_finished(self, record: TrialRecord) -> None:
        """Count a recorded trial toward failures and progress; may set :attr:`fatal`."""
        self.trials_here += 1
        if record.epochs_run and record.fit_seconds:
            epoch = record.fit_seconds / record.epochs_run
            self.shortest_epoch = epoch if self.shortest_epoch is None else min(self.shortest_epoch, epoch)
        if record.state is TrialState.FAIL:
            self.consecutive_failures = self._failure_streak(record)
            self.state.failed += 1
            log.warning("trial %d failed: %s", record.number, record.failure)
            if self.consecutive_failures >= self.budget.max_consecutive_failures:
                self.fatal = FatalError(
                    f"{self.consecutive_failures} trials failed in a row (last: {record.failure}); "
                    "the search stopped with every finished trial kept. Check the space (e.g. lower the "
                    "learning-rate range) and continue with `resume`"
                )
        else:
            self.consecutive_failures = 0
            self.finished_here += 1
            self.state.finished = self.finished_count(including=record.number)
            if record.state is TrialState.COMPLETE:
                self.state.best = self._best([self.state.best, record.score])
            log.info(
                "trial %d %s score=%s epochs=%s",
                record.number,
                record.state.value,
                record.score,
                record.epochs_run,
            )
        self.progress.trial_finished(record, self.state)

    def _failure_streak(self, failed: TrialRecord) -> int:
        """Failed trials in a row, ``failed`` included, over every process, since :attr:`since`.

        A trial failed for its process's death (a stale heartbeat, an interruption) says nothing about
        the space, so it neither counts nor breaks the streak.
        """
        from optuna.trial import TrialState as OptunaState

        ended = [
            t
            for t in self.study.get_trials(
                deepcopy=False, states=(OptunaState.COMPLETE, OptunaState.PRUNED, OptunaState.FAIL)
            )
            if t.number != failed.number
            and t.datetime_complete is not None
            and t.datetime_complete >= self.since
        ]
        ended.sort(key=lambda t: t.datetime_complete or self.since)
        streak = 1
        for trial in reversed(ended):
            if trial.state is not OptunaState.FAIL:
                break
            reason = str(trial.user_attrs.get("failure") or "")
            if reason and not reason.startswith("interrupted"):
                streak += 1
        return streak

    def stop(self) -> None:
        self.progress.stop(self.state)
