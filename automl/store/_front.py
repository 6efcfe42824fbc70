"""The trade-off front: the trials no other trial beats on both the score and a footprint measure.

A trial is on the front of an objective (``params``, ``size`` or ``latency``, each a measure of
:data:`automl.objectives.SECONDARY`) when no other trial has a score at least as good *and* a measure at
least as small, one of them strictly.
Only complete trials count, repeats of a finished config are that config's trial (as in
:func:`automl.store.best_first`), and a trial without the measure (a stand-in trainer's, or a footprint
that failed) is left out. Pure functions of the records: the leaderboard and the report show the front
(:mod:`automl.report._pareto`), the retrain picks from it (:mod:`automl.retrain._pick`) and
:func:`automl.training.remeasure_front` measures it again; it lives here, below all three, as
``best_first`` does. No TensorFlow here.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from automl.exceptions import Argument, UserError, did_you_mean
from automl.objectives import SECONDARY
from automl.store._records import StudyInfo, TrialRecord, TrialState

__all__ = ["front_objectives", "measure_of", "pareto_front", "remeasured_configs"]


def _field(objective: str) -> str:
    if objective not in SECONDARY:
        raise UserError(
            "{objective}: no measure {name!r}{hint}; the front is on one of {names}",
            objective=Argument("objective"),
            name=objective,
            hint=did_you_mean(objective, SECONDARY),
            names=", ".join(SECONDARY),
        )
    return SECONDARY[objective]


def measure_of(record: TrialRecord, objective: str) -> float | None:
    """``record``'s measure of ``objective`` (weights, saved bytes or ms per row at batch 1), or None."""
    value = getattr(record, _field(objective))
    if value is None or not math.isfinite(float(value)):
        return None
    return float(value)


def pareto_front(records: Sequence[TrialRecord], info: StudyInfo, objective: str) -> list[TrialRecord]:
    """The non-dominated trials on (validation score in ``info.direction``, ``objective``'s measure
    minimised), smallest measure first (so the best score comes last).

    Complete, non-repeat trials with a score and the measure only. Two trials with the same score and the
    same measure do not dominate each other: both are on the front (the earlier trial first).

    Raises:
        UserError: ``objective`` is not one of ``params``, ``size``, ``latency``.
    """
    _field(objective)
    sign = 1.0 if info.direction == "maximize" else -1.0
    points = [
        (measure, sign * record.score, record)
        for record in records
        if record.state is TrialState.COMPLETE
        and record.repeat_of is None
        and record.score is not None
        and math.isfinite(record.score)
        and (measure := measure_of(record, objective)) is not None
    ]
    # Smallest measure first, best score first among equal measures, then trial order: a point is on the
    # front when its score beats every score before it (those are at most as large) or ties the one it
    # follows at the same measure.
    points.sort(key=lambda p: (p[0], -p[1], p[2].number))
    front: list[TrialRecord] = []
    best: float = -math.inf
    last: tuple[float, float] | None = None
    for measure, score, record in points:
        if score > best or (last is not None and (measure, score) == last):
            front.append(record)
            best = max(best, score)
            last = (measure, score)
    return front


def front_objectives(info: StudyInfo) -> tuple[list[str], bool]:
    """The objectives whose fronts a study shows: those its search recorded (``info.objectives``), and
    whether they were: a single-objective study shows its front on ``params``, which every trial records."""
    recorded = [o for o in info.objectives if o in SECONDARY]
    return (recorded, True) if recorded else (["params"], False)


def remeasured_configs(records: Sequence[TrialRecord], info: StudyInfo) -> list[TrialRecord]:
    """The trials :func:`automl.training.remeasure_front` measures again: the union of the fronts on every
    measure the trials hold (weights, size, latency), in trial order.

    Not the latency front alone: a config a busy neighbour slowed while its trial measured it falls off the
    latency front, but its weights and saved size are exact, so it stays on theirs and is measured again.
    """
    chosen: dict[int, TrialRecord] = {}
    for objective in SECONDARY:
        for record in pareto_front(records, info, objective):
            chosen.setdefault(record.number, record)
    return [chosen[n] for n in sorted(chosen)]
