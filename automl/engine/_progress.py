"""Progress of a search, reported as events; the CLI renders them with rich, the API stays quiet."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Protocol

from automl.store import TrialRecord, TrialState, best_first

__all__ = ["NullProgress", "Progress", "ProgressState"]


def best_score(records: list[TrialRecord], direction: str) -> float | None:
    """The best validation score among complete trials (None before the first)."""
    ranked = best_first(records, direction)
    return ranked[0].score if ranked else None


@dataclass
class ProgressState:
    """What a display needs: the budget, trials finished (in the whole study), the best score so far."""

    study: str
    metric: str
    direction: str
    trial_budget: int | None
    timeout: float | None
    finished: int = 0
    failed: int = 0
    #: configs proposed over ``max_params`` and not trained
    skipped: int = 0
    best: float | None = None
    started: float = 0.0

    def __post_init__(self) -> None:
        self.started = self.started or time.monotonic()

    @classmethod
    def of_records(
        cls,
        records: list[TrialRecord],
        *,
        study: str,
        metric: str,
        direction: str,
        trial_budget: int | None,
        timeout: float | None,
        started: float,
    ) -> ProgressState:
        """The state of a study whose trials so far are ``records`` (a resumed or shared study)."""
        return cls(
            study=study,
            metric=metric,
            direction=direction,
            trial_budget=trial_budget,
            timeout=timeout,
            finished=sum(r.state.finished for r in records),
            failed=sum(r.state is TrialState.FAIL for r in records),
            skipped=sum(r.state is TrialState.SKIPPED for r in records),
            best=best_score(records, direction),
            started=started,
        )

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def eta(self, finished_here: int) -> float | None:
        """Seconds left: by trials at this run's pace, capped by the wall-clock budget."""
        estimates = []
        if self.trial_budget is not None and finished_here > 0:
            estimates.append(self.elapsed / finished_here * max(self.trial_budget - self.finished, 0))
        if self.timeout is not None:
            estimates.append(max(self.timeout - self.elapsed, 0.0))
        return min(estimates) if estimates else None


class Progress(Protocol):
    def start(self, state: ProgressState) -> None: ...

    def trial_started(self, number: int) -> None: ...

    def trial_finished(self, record: TrialRecord, state: ProgressState) -> None: ...

    def stop(self, state: ProgressState) -> None: ...

    # Optional: called by the supervisor of worker processes with each slot's state ("trial 7",
    # "starting"); a display without it simply does not show workers.
    # def workers(self, states: dict[int, str]) -> None: ...


class NullProgress:
    """Shows nothing (the Python API's default; the log file still records every trial)."""

    def workers(self, states: dict[int, str]) -> None:
        pass

    def start(self, state: ProgressState) -> None:
        pass

    def trial_started(self, number: int) -> None:
        pass

    def trial_finished(self, record: TrialRecord, state: ProgressState) -> None:
        pass

    def stop(self, state: ProgressState) -> None:
        pass
