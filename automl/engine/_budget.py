"""Budget: how much searching to do, and the rules that end a search early (failures in a row, a stall).

The one record of a search's limits that every process gets (a worker as :class:`~automl.engine.WorkerSpec`'s
mapping); checked when made, so a bad value is one line before any work, naming the caller's argument.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from automl.engine._stall import STALL_TOLERANCE
from automl.exceptions import Argument

if TYPE_CHECKING:
    from automl.store import BudgetEntry

__all__ = ["Budget"]


@dataclass(frozen=True)
class Budget:
    """How much searching to do.

    Args:
        trials: Finished (complete + pruned) trials the study should hold; None for no limit.
        timeout: Seconds of wall clock for this invocation; None for no limit.
        trial_timeout: Seconds after which one trial is ended as failed.
        max_consecutive_failures: This many failed trials in a row stop the search (FatalError).
        stall_trials: Stop once this many finished trials in a row brought no improvement of the best score
            (``stop_stalled=N``; see :mod:`automl.engine._stall`); None: never.
        stall_seconds: Stop once no trial improved the best score for this long (``stop_stalled="10m"``).
        stall_tolerance: The least improvement that counts, relative to the best score
            (:data:`~automl.engine.STALL_TOLERANCE` by default, which says why).
    """

    trials: int | None = None
    timeout: float | None = None
    trial_timeout: float | None = None
    max_consecutive_failures: int = 5
    stall_trials: int | None = None
    stall_seconds: float | None = None
    stall_tolerance: float = STALL_TOLERANCE

    def __post_init__(self) -> None:
        from automl.exceptions import UserError

        n_trials, timeout = Argument("n_trials"), Argument("timeout")
        if self.trials is None and self.timeout is None:
            raise UserError(
                "the search needs a budget: give {n_trials}, {timeout} (seconds), or both",
                n_trials=n_trials,
                timeout=timeout,
            )
        # Named as AutoMLSearch's caller wrote them (``trials`` is ``n_trials`` there); the CLI says flags.
        if self.trials is not None and self.trials < 1:
            raise UserError(
                "{n_trials} must be at least 1, but got {got}", n_trials=n_trials, got=self.trials
            )
        if self.timeout is not None and self.timeout <= 0:
            raise UserError(
                "{timeout} must be positive seconds, but got {got}", timeout=timeout, got=self.timeout
            )
        if self.trial_timeout is not None and self.trial_timeout <= 0:
            raise UserError(
                "{trial_timeout} must be positive seconds, but got {got}",
                trial_timeout=Argument("trial_timeout"),
                got=self.trial_timeout,
            )
        if self.stall_trials is not None and self.stall_trials < 1:
            raise UserError(
                "{stop_stalled} must be at least 1 trial, but got {got}",
                stop_stalled=Argument("stop_stalled"),
                got=self.stall_trials,
            )
        if self.stall_seconds is not None and not self.stall_seconds > 0:
            raise UserError(
                "{stop_stalled} must be a positive duration, but got {got} seconds",
                stop_stalled=Argument("stop_stalled"),
                got=self.stall_seconds,
            )
        if not (math.isfinite(self.stall_tolerance) and self.stall_tolerance >= 0):
            raise UserError(
                "{stall_tolerance} must be zero or more (a fraction of the best score), but got {got}",
                stall_tolerance=Argument("stall_tolerance"),
                got=self.stall_tolerance,
            )

    @classmethod
    def of(
        cls,
        record: BudgetEntry,
        *,
        study: str | None = None,
        trials: int | None = None,
        timeout: float | None,
    ) -> Budget:
        """One study's budget under the run's budget ``record`` (what the experiment file, the search's
        arguments and the manifest hold): its trials (``trials``, else the study's share recorded in
        ``record.trials_per_study``, else ``record.trials``) and ``timeout`` seconds from now."""
        if trials is None:
            trials = record.trials_per_study.get(study, record.trials) if study else record.trials
        return cls(
            trials=trials,
            timeout=timeout,
            trial_timeout=record.trial_timeout,
            max_consecutive_failures=record.max_consecutive_failures,
            stall_trials=record.stall_trials,
            stall_seconds=record.stall_seconds,
            stall_tolerance=STALL_TOLERANCE if record.stall_tolerance is None else record.stall_tolerance,
        )

    @property
    def stops_stalled(self) -> bool:
        return self.stall_trials is not None or self.stall_seconds is not None
