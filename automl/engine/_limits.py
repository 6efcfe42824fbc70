"""Limits on the models a search trains (``max_params``): a config over one is proposed but never trained.

A config's weight count comes from the config itself (:func:`automl.model.count_params` plans the layers
and builds nothing), so judging a proposal takes microseconds. A config over the limit becomes a skipped
trial (:attr:`~automl.store.TrialState.SKIPPED`): no trial of the budget, of the failure streak or of the
stall rule. The Optuna backend stores it as PRUNED with a constraint value (how far over, relative), which
is how its samplers learn a config is infeasible: TPE and NSGA read only complete and pruned trials, and
rank an infeasible one below every feasible one; a failed trial would teach them nothing.

A sampler may still propose over the limit many times in a row: at the start, before it has learnt, or
when most of the space is over it. After :data:`OVER_LIMIT_IN_A_ROW` such proposals in a row, the next
config is drawn from the feasible region: random configs from the space's own prior (what the random
sampler draws), the first that fits. Rejection keeps that draw uniform over the feasible part of the
prior, so it favours no size within the limit (a shrink-until-it-fits rule would favour the smallest).
When none of :data:`FEASIBLE_DRAWS` draws fits, or the study holds :data:`OVER_LIMIT_CAP` times its trial
budget in skipped configs, the search stops with a one-line reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from automl.engine._runner import TrialOutcome
from automl.exceptions import ConfigError, UserError
from automl.outcomes import StopReason
from automl.store import TrialRecord, TrialState

if TYPE_CHECKING:
    from automl.datasets import Dataset
    from automl.engine._runner import TrialRunner
    from automl.space import Parameter, SearchSpace

__all__ = ["FEASIBLE_DRAWS", "OVER_LIMIT_CAP", "OVER_LIMIT_IN_A_ROW", "ParamLimit", "param_limit"]

#: proposals over the limit in a row after which the next config comes from the feasible region
OVER_LIMIT_IN_A_ROW = 5
#: skipped configs the study may hold, in multiples of the trial budget, before the search stops
OVER_LIMIT_CAP = 10
#: random configs drawn to find one within the limit (about 50 µs each) before the search gives up
FEASIBLE_DRAWS = 5_000
#: random configs drawn, beside the smallest values of each parameter, to find the space's smallest model
_SMALLEST_DRAWS = 500


@dataclass(frozen=True)
class ParamLimit:
    """``max_params`` of ``space`` on ``dataset``: which configs are over it, and configs within it."""

    space: SearchSpace
    dataset: Dataset
    max_params: int

    def weights(self, config: Mapping[str, Any]) -> int | None:
        """The weights of ``config``'s model; None for a config the model cannot plan (its training
        then fails it with the reason, as without a limit)."""
        from automl.model import count_params

        try:
            return count_params(config, self.dataset, family=self.space.family)
        except ConfigError:
            return None

    def excess(self, config: Mapping[str, Any]) -> float | None:
        """How far ``config`` is over the limit, relative (``0.5``: 50 % more weights); None within it."""
        weights = self.weights(config)
        if weights is None or weights <= self.max_params:
            return None
        return weights / self.max_params - 1.0

    def skipped(
        self,
        config: dict[str, Any],
        *,
        number: int,
        params: dict[str, Any] | None,
        retry_of: int | None,
        runner: TrialRunner,
    ) -> TrialOutcome | None:
        """The SKIPPED outcome of trial ``number`` when ``config`` is over the limit; None within it."""
        excess = self.excess(config)
        if excess is None:
            return None
        weights = self.weights(config)
        record = TrialRecord(
            number=number,
            state=TrialState.SKIPPED,
            score=None,
            params=dict(params if params is not None else config),
            config=dict(config),
            n_params=weights,
            stopped_by=StopReason.OVER_LIMIT.value,
            failure=f"over_limit: {weights:,} weights > max_params {self.max_params:,}",
            device=runner.device,
            worker=runner.worker,
            retry_of=retry_of,
        )
        return TrialOutcome(TrialState.SKIPPED, None, record, limit_excess=excess)

    def feasible(self, rng: np.random.Generator) -> dict[str, Any] | None:
        """The searched values of a random config within the limit (see module doc); None if none of
        :data:`FEASIBLE_DRAWS` draws fits."""
        for _ in range(FEASIBLE_DRAWS):
            config, params = self.space.walk(lambda p: p.sample(rng))
            weights = self.weights(config)
            if weights is not None and weights <= self.max_params:
                return params
        return None

    def smallest(self) -> tuple[int, dict[str, Any]]:
        """The smallest model found in the space: every parameter at its smallest value, or one of
        :data:`_SMALLEST_DRAWS` random configs if smaller."""
        rng = np.random.default_rng(0)
        candidates = [self.space.walk(_smallest_value)[0]]
        candidates += [self.space.sample(rng) for _ in range(_SMALLEST_DRAWS)]
        sized = [(w, c) for c in candidates if (w := self.weights(c)) is not None]
        if not sized:
            return 0, candidates[0]
        return min(sized, key=lambda pair: pair[0])

    def check_reachable(self) -> None:
        """Raise UserError when even the space's smallest model is over the limit: nothing would train."""
        weights, config = self.smallest()
        if weights > self.max_params:
            shown = ", ".join(
                f"{k}={v}"
                for k, v in config.items()
                if k in _SIZE_PARAMETERS or k.rsplit("_", 1)[0] in _SIZE_PARAMETERS
            )
            raise UserError(
                f"{self.space.source}: max_params {self.max_params:,} is below the smallest model of the "
                f"space on dataset {self.dataset.name!r} ({weights:,} weights{shown and f': {shown}'}); "
                "raise max_params or lower the space's smallest widths"
            )


#: the parameters that set a model's size, named in the message of an unreachable limit
_SIZE_PARAMETERS = frozenset(
    {"depth", "units", "blocks", "filters", "convs_per_block", "kernel_size", "dense_units"}
)


def _smallest_value(parameter: Parameter) -> Any:
    """A parameter's smallest value: the low end of a range, the least number of a numeric choice, else
    its default (an activation or an optimizer changes no weight count)."""
    from automl.space import Choice, Fixed

    if isinstance(parameter, Fixed):
        return parameter.value
    if isinstance(parameter, Choice):
        numbers = [v for v in parameter.values if isinstance(v, int | float) and not isinstance(v, bool)]
        return min(numbers) if len(numbers) == len(parameter.values) else parameter.default_value
    return getattr(parameter, "low", parameter.default_value)


def param_limit(space: SearchSpace, dataset: Dataset) -> ParamLimit | None:
    """The space's ``max_params`` on ``dataset``, or None when it sets none."""
    if space.max_params is None:
        return None
    return ParamLimit(space, dataset, int(space.max_params))
