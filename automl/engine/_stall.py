"""The stall rule: stop a search whose best score stopped improving (``stop_stalled``).

One study-wide decision. It reads the study's finished (complete + pruned) trials in the order they
finished, so every process of a search, each asking before its next trial, decides the same, and once it
holds it keeps holding: a trial still running when the rule fired (on another worker) cannot undo it.

* **Trials** (``stop_stalled=15``): stop once N finished trials in a row brought no improvement of the
  best score by more than the tolerance. A pruned trial finished without a score: it counts as one that
  brought none; a failed trial is not finished and neither counts nor breaks the run.
* **Time** (``stop_stalled="10m"``): stop once no trial improved the best score for that long.

Both count from the start of the search now running (a resumed search starts afresh, against the best
score the study already holds). The tolerance is relative to the best score: see :data:`STALL_TOLERANCE`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from automl.exceptions import Argument, UserError
from automl.outcomes import SearchStop
from automl.store import SearchStopped

__all__ = ["STALL_TOLERANCE", "FinishedTrial", "parse_stop_stalled", "stalled"]

#: The default tolerance, relative to the best score's magnitude: an improvement counts only when it is
#: more than 0.1 % of the best score. Relative, so one default suits every metric whatever its scale (an
#: RMSE in the target's units, a log loss, an accuracy); 0.1 % because a gain that small is below what a
#: validation split measures (one row of a 1,000-row split moves an accuracy by 0.1 %), and a search that
#: only gains that much has stopped paying for its trials. A best score of 0 (an R² at 0) makes any gain
#: count.
STALL_TOLERANCE = 1e-3

_TRIALS = re.compile(r"^\s*\d+\s*$")


@dataclass(frozen=True)
class FinishedTrial:
    """What the rule reads of a finished trial: its number, when it finished, and its score (None for a
    pruned trial)."""

    number: int
    finished: datetime
    score: float | None


def parse_stop_stalled(value: Any, *, argument: str = "stop_stalled") -> tuple[int | None, float | None]:
    """``(trials, seconds)`` of a ``stop_stalled`` value: a whole number of trials (``15``, ``"15"``) or
    a duration with its unit (``"10m"``, ``"90s"``, ``"1.5h"``); ``(None, None)`` for None.

    Raises:
        UserError: one line naming ``argument``: fewer than 1 trial, or neither form.
    """
    from automl._durations import parse_duration

    if value is None:
        return None, None
    named = Argument(argument)
    if isinstance(value, int) and not isinstance(value, bool):
        trials = value
    elif isinstance(value, str) and _TRIALS.match(value):
        trials = int(value)
    elif isinstance(value, str):
        try:
            return None, parse_duration(value, name=str(named))
        except UserError as exc:
            raise UserError(
                "{argument} must be a number of trials (15) or a duration (10m, 1h), but got {got!r}",
                argument=named,
                got=value,
            ) from exc
    else:
        raise UserError(
            "{argument} must be a number of trials (15) or a duration (10m, 1h), but got {got!r}",
            argument=named,
            got=value,
        )
    if trials < 1:
        raise UserError("{argument} must be at least 1 trial, but got {got}", argument=named, got=trials)
    return trials, None


def _improves(score: float, reference: float | None, *, maximize: bool, tolerance: float) -> bool:
    if reference is None:
        return True
    margin = tolerance * abs(reference)
    return score > reference + margin if maximize else score < reference - margin


def stalled(
    trials: Sequence[FinishedTrial],
    *,
    maximize: bool,
    since: datetime,
    now: datetime,
    stall_trials: int | None = None,
    stall_seconds: float | None = None,
    tolerance: float = STALL_TOLERANCE,
) -> SearchStopped | None:
    """Whether the search that started at ``since`` has stalled by ``now`` (see the module doc).

    ``trials`` are the study's finished trials (any order). Returns the stop to record, or None.
    """
    if stall_trials is None and stall_seconds is None:
        return None
    ordered = sorted(trials, key=lambda t: (t.finished, t.number))
    scored = [t for t in ordered if t.score is not None and math.isfinite(t.score)]

    def better(a: float, b: float | None) -> bool:
        return b is None or (a > b if maximize else a < b)

    # The bar: the best score before this search (a resumed study), then each significant improvement.
    reference: float | None = None
    best: FinishedTrial | None = None  # the study's best so far, small gains included (what is reported)
    for trial in scored:
        if trial.finished < since and better(trial.score, reference):  # type: ignore[arg-type]
            reference, best = trial.score, trial

    def stop(**numbers: Any) -> SearchStopped:
        return SearchStopped(
            reason=SearchStop.STALLED,
            best=None if best is None else best.score,
            best_trial=None if best is None else best.number,
            at=now.isoformat(timespec="seconds"),
            **numbers,
        )

    streak, last = 0, since
    for trial in ordered:
        if trial.finished < since:
            continue
        if stall_seconds is not None and (trial.finished - last).total_seconds() >= stall_seconds:
            return stop(seconds=stall_seconds)  # it stalled before this trial finished
        score = trial.score
        if score is not None and math.isfinite(score):
            if best is None or better(score, best.score):
                best = trial
            if _improves(score, reference, maximize=maximize, tolerance=tolerance):
                reference, streak, last = score, 0, trial.finished
                continue
        streak += 1
        if stall_trials is not None and streak >= stall_trials:
            return stop(trials=stall_trials)
    if stall_seconds is not None and (now - last).total_seconds() >= stall_seconds:
        return stop(seconds=stall_seconds)
    return None
