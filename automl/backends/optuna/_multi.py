"""A multi-objective study (the score, then size / latency / weights, each minimised): its values and its
pruning, which Optuna does not do there.

In a multi-objective study Optuna's ``Trial.report`` and ``should_prune`` raise ``NotImplementedError``, so
automl keeps each trial's learning curve itself (user attribute ``reported``: step -> validation score,
written with its record) and prunes on the score by the median rule Optuna's ``MedianPruner`` applies:
from step ``n_warmup_steps`` on and once ``n_startup_trials`` trials completed, a trial whose best score
so far is worse than the median of the completed trials' scores at the same step is pruned.

A pruned trial is recorded PRUNED, without values (it has no measured size or latency worth a place on
the front) and without Optuna intermediate values: TPE's multi-objective split ranks a pruned trial by
its last intermediate value through ``study.direction``, which a multi-objective study refuses, so the
curve stays in ``reported`` only. TPE then ranks pruned trials after every complete one, in its
"worse" group: it learns from them that their region is poor, as the pruner judged. Trials over
``max_params`` carry their constraint as in a single-objective study.

The sampler is TPE's multi-objective form (Optuna's TPESampler with several directions): at the
budgets this toolkit runs (tens of trials) NSGA-II's default population of 50 would spend the whole
search on its random first generation. benchmarks/tradeoff.py measures the two.
"""

from __future__ import annotations

import logging
import math
import statistics
from collections.abc import Sequence
from typing import TYPE_CHECKING

from automl.objectives import SECONDARY

if TYPE_CHECKING:
    import optuna

    from automl.store import TrialRecord

__all__ = ["MedianRule", "objective_values"]

log = logging.getLogger("automl.optuna")


def objective_values(record: TrialRecord, objectives: Sequence[str]) -> list[float]:
    """A complete trial's values: its score, then each secondary objective's measure (a measure that
    could not be taken is +inf, the worst: such a trial never sits on the front)."""
    assert record.score is not None
    values = [float(record.score)]
    for name in objectives:
        measure = getattr(record, SECONDARY[name])
        if measure is None:
            log.warning("trial %d: no %s measured; it counts as the worst", record.number, name)
        values.append(math.inf if measure is None else float(measure))
    return values


class MedianRule:
    """Optuna's median pruning rule, on the curves automl keeps itself (see module doc)."""

    def __init__(self, *, maximize: bool, startup_trials: int, warmup_steps: int) -> None:
        self.maximize = maximize
        self.startup_trials = startup_trials
        self.warmup_steps = warmup_steps

    def prunes(self, study: optuna.Study, step: int, curve: dict[int, float]) -> bool:
        """Whether the trial whose scores so far are ``curve`` (step -> score) is pruned at ``step``."""
        from optuna.trial import TrialState

        if step < self.warmup_steps:
            return False
        completed = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
        if len(completed) < self.startup_trials:
            return False
        at_step = []
        for trial in completed:
            value = (trial.user_attrs.get("reported") or {}).get(str(step))
            if value is not None and math.isfinite(value):
                at_step.append(float(value))
        scores = [s for s in curve.values() if math.isfinite(s)]
        if not at_step or not scores:
            return False
        best = max(scores) if self.maximize else min(scores)
        median = statistics.median(at_step)
        return best < median if self.maximize else best > median
