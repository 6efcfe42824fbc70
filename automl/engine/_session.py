"""SearchSession: one study searched under one budget, the part every backend shares.

It implements :class:`automl.engine.Session`, the protocol backends are typed against. A backend asks
the session whether to go on (:meth:`should_stop`), trains through it (:meth:`run_trial`) and tells it
when a trial is recorded (:meth:`trial_finished`). The session counts
the budget from the store (``n_trials`` is the number of finished, i.e. complete or pruned, trials
in the whole study, so a resumed run continues to N), watches the wall clock, counts consecutive
failures, stops a search whose best score stalled (:mod:`automl.engine._stall`) and feeds the progress
display. A study-wide stop (stalled, failures) is recorded in the study (:class:`automl.store.SearchStopped`).
"""

from __future__ import annotations

import logging
import math
import time
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from automl import interrupts
from automl.engine._budget import Budget
from automl.engine._limits import OVER_LIMIT_CAP, OVER_LIMIT_IN_A_ROW, search_limits
from automl.engine._progress import NullProgress, Progress, ProgressState
from automl.engine._protocol import ReservedTrial
from automl.engine._repeats import repeated
from automl.engine._runner import ReportHook, TrialOutcome, TrialRunner
from automl.engine._stall import FinishedTrial, stalled
from automl.exceptions import Argument, FatalError
from automl.outcomes import SearchStop
from automl.store import (
    SearchStopped,
    StudyInfo,
    TrialRecord,
    TrialState,
    failure_kind_of,
    finish_reserved_trial,
    over_limit,
    record_stop,
    reserve_trial,
    worker_alive,
)

if TYPE_CHECKING:
    import optuna

    from automl.space import SearchSpace

__all__ = ["SearchSession"]

log = logging.getLogger("automl.session")

#: how often a worker waiting for other workers' last trials looks at the study again.
_WAIT_SECONDS = 0.5


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
        #: why the search stopped early (stalled, failures), once this process found it
        self.stopped: SearchStopped | None = None
        records = [TrialRecord.from_frozen(t) for t in study.get_trials(deepcopy=False)]
        #: the space's limits on this dataset (None: none), and the configs proposed over them in a row in
        #: this process (see :mod:`automl.engine._limits`)
        self.limit = search_limits(space, runner.dataset)
        if self.limit is not None:
            self.limit.check_reachable()
        self.over_limit_in_a_row = 0
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
        numbers = {t.number for t in done if not over_limit(t)}
        if including is not None:
            numbers.add(including)
        return len(numbers)

    def _room(self, budget: int) -> tuple[int, int]:
        """Trials the study still has room for under ``budget``, and how many of them other live processes
        are running now (each may still finish and fill it), from one read of the study.

        Only running trials younger than twice the study's longest finished trial count: one older than
        that (a machine gone without a heartbeat, a hung process) is not waited for.
        """
        from optuna.trial import TrialState as OptunaState

        trials = self.study.get_trials(
            deepcopy=False, states=(OptunaState.COMPLETE, OptunaState.PRUNED, OptunaState.RUNNING)
        )
        finished = [t for t in trials if t.state is not OptunaState.RUNNING and not over_limit(t)]
        left = max(budget - len(finished), 0)
        lengths = [
            (t.datetime_complete - t.datetime_start).total_seconds()
            for t in finished
            if t.datetime_complete is not None and t.datetime_start is not None
        ]
        if left == 0 or not lengths:
            return left, 0
        now = datetime.now()
        patience = 2 * max(lengths) + _WAIT_SECONDS
        running = 0
        for trial in trials:
            worker = str(trial.user_attrs.get("worker") or "")
            if trial.state is not OptunaState.RUNNING or not worker or worker == self.worker:
                continue
            started = trial.datetime_start
            young = started is not None and (now - started).total_seconds() < patience
            running += young and worker_alive(worker)
        return left, running

    def time_left(self) -> float | None:
        return None if self.deadline is None else max(self.deadline - time.monotonic(), 0.0)

    @property
    def worker(self) -> str:
        return self.runner.worker

    @property
    def device(self) -> str:
        return self.runner.device

    def should_stop(self) -> bool:
        """Whether to start no new trial. Raises KeyboardInterrupt if Ctrl-C was pressed.

        The trial budget is exact over every process: while the trials other workers are running would
        fill it, this one waits for them (one that fails leaves a trial to run) rather than starting one
        too many. A stalled study (the budget's stall rule) stops every process alike.
        """
        while True:
            interrupts.check()
            if self.fatal is not None or self._stalled() or self._proposals_capped():
                return True
            if self.max_trials_here is not None and self.trials_here >= self.max_trials_here:
                return True
            left = self.time_left()
            if left is not None and left <= (self.shortest_epoch or 0.0):
                return True
            if self.budget.trials is None:
                return False
            left, running_elsewhere = self._room(self.budget.trials)
            if left == 0:
                return True
            if left > running_elsewhere:
                return False
            time.sleep(_WAIT_SECONDS)

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
        retry_of: int | None = None,
    ) -> TrialOutcome:
        """Train one config (see :class:`TrialRunner`); record it with :meth:`trial_finished` afterwards.

        A config over the search's ``max_params`` is not trained: its outcome is SKIPPED, with its weight
        count, and the backend records it so that its sampler learns (see :mod:`automl.engine._limits`).
        Nor is a config the study finished already: its result is reused (:mod:`automl.engine._repeats`).
        """
        if self.limit is not None and model is None:  # a Hyperband round goes on with a model within them
            skipped = self.limit.skipped(
                config, number=number, params=params, retry_of=retry_of, runner=self.runner
            )
            if skipped is not None:
                return skipped
        if model is None and epochs is None:  # a Hyperband round trains a given budget: never a repeat
            repeat = repeated(
                self.study, config, number=number, params=params, retry_of=retry_of, runner=self.runner
            )
            if repeat is not None:
                return repeat
        self.progress.trial_started(number)
        return self.runner.run(
            config,
            number=number,
            report=report,
            params=params,
            model=model,
            initial_epoch=initial_epoch,
            epochs=epochs,
            retry_of=retry_of,
        )

    def feasible_params(self, number: int) -> dict[str, Any] | None:
        """After :data:`~automl.engine._limits.OVER_LIMIT_IN_A_ROW` configs over ``max_params`` in a row, the
        searched values of a random config within it, for the backend to propose next; else None.

        When no draw fits, the search stops (recorded in the study, :meth:`should_stop` says so).
        """
        if (
            self.limit is None
            or self.limit.max_params is None
            or self.over_limit_in_a_row < OVER_LIMIT_IN_A_ROW
        ):
            return None
        import numpy as np

        params = self.limit.feasible(np.random.default_rng([self.runner.seed, number]))
        if params is None:
            self._record_stop(SearchStopped(SearchStop.OVER_LIMIT, trials=self.over_limit_in_a_row))
            return None
        self.over_limit_in_a_row = 0
        return params

    def trial_finished(self, record: TrialRecord) -> None:
        """Count a recorded trial toward failures and progress; may set :attr:`fatal`."""
        if record.state is TrialState.SKIPPED:
            self.over_limit_in_a_row += 1
            self.state.skipped += 1
            log.info("trial %d skipped: %s", record.number, record.failure)
            return
        self.over_limit_in_a_row = 0
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
                    "{failures} trials failed in a row (last: {failure}); the search stopped with every "
                    "finished trial kept. Check the space (e.g. lower the learning-rate range) and continue "
                    "with {resume}",
                    failures=self.consecutive_failures,
                    failure=record.failure,
                    resume=Argument("resume"),
                )
                self._record_stop(SearchStopped(SearchStop.FAILURES, trials=self.consecutive_failures))
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

    def _proposals_capped(self) -> bool:
        """Whether the search stopped on configs over ``max_params``: none found within it, or more of them
        than :data:`~automl.engine._limits.OVER_LIMIT_CAP` times the trial budget in the study."""
        if self.stopped is not None and self.stopped.reason is SearchStop.OVER_LIMIT:
            return True
        if self.limit is None or self.budget.trials is None:
            return False
        from optuna.trial import TrialState as OptunaState

        skipped = sum(
            over_limit(t) for t in self.study.get_trials(deepcopy=False, states=(OptunaState.PRUNED,))
        )
        if skipped < OVER_LIMIT_CAP * self.budget.trials:
            return False
        self._record_stop(SearchStopped(SearchStop.OVER_LIMIT, trials=skipped))
        return True

    def _stalled(self) -> bool:
        """Whether the study's best score stalled under the budget's stall rule (see
        :mod:`automl.engine._stall`): read from the study's finished trials, so every process decides the
        same; the first to find it records it in the study."""
        if self.stopped is not None and self.stopped.reason is SearchStop.STALLED:
            return True
        if not self.budget.stops_stalled:
            return False
        from optuna.trial import TrialState as OptunaState

        finished = [
            FinishedTrial(
                t.number, t.datetime_complete, t.values[0] if t.state is OptunaState.COMPLETE else None
            )
            for t in self.study.get_trials(deepcopy=False, states=(OptunaState.COMPLETE, OptunaState.PRUNED))
            if t.datetime_complete is not None and not over_limit(t)
        ]
        verdict = stalled(
            finished, maximize=self.maximize, since=self.since, now=datetime.now(),
            stall_trials=self.budget.stall_trials, stall_seconds=self.budget.stall_seconds,
            tolerance=self.budget.stall_tolerance,
        )  # fmt: skip
        if verdict is None:
            return False
        self._record_stop(verdict)
        return True

    def _record_stop(self, stopped: SearchStopped) -> None:
        self.stopped = stopped
        level = logging.WARNING if stopped.reason is SearchStop.FAILURES else logging.INFO
        log.log(level, "the search stopped: %s", stopped.describe())
        try:
            record_stop(self.study, stopped)
        except Exception as exc:  # the stop holds in this process; only its record is lost
            log.warning("could not record the stop in the study: %s", exc)

    def _failure_streak(self, failed: TrialRecord) -> int:
        """Failed trials in a row, ``failed`` included, over every process, since :attr:`since`.

        Only failures whose kind speaks about the config count
        (:attr:`~automl.outcomes.FailureKind.counts_toward_streak`): a trial failed for its process's death
        (killed, a stale heartbeat, an interruption) or the storage's says nothing about the space, so it
        neither counts nor breaks the streak. ``failed`` itself counts only if its kind does.
        """
        from optuna.trial import TrialState as OptunaState

        ended = [
            t
            for t in self.study.get_trials(
                deepcopy=False, states=(OptunaState.COMPLETE, OptunaState.PRUNED, OptunaState.FAIL)
            )
            if t.number != failed.number
            and not over_limit(t)  # a config never trained says nothing either way
            and t.datetime_complete is not None
            and t.datetime_complete >= self.since
        ]
        ended.sort(key=lambda t: t.datetime_complete or self.since)
        own = failed.failure_kind or failure_kind_of(TrialState.FAIL, {"failure": failed.failure})
        streak = 1 if own is not None and own.counts_toward_streak else 0
        for trial in reversed(ended):
            if trial.state is not OptunaState.FAIL:
                break
            kind = failure_kind_of(TrialState.FAIL, trial.user_attrs)
            if kind is not None and kind.counts_toward_streak:
                streak += 1
        return streak

    def stop(self) -> None:
        self.progress.stop(self.state)
