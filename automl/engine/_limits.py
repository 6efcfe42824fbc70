"""Limits on the models a search trains (``max_params``, ``max_latency_ms``): a config over one is proposed
but never trained.

A config's weight count comes from the config itself (:func:`automl.model.count_params` plans the layers
and builds nothing), so judging a proposal takes microseconds. Its latency needs the model: it is built
untrained and timed (:func:`automl.training.footprint_of`; weights' values change no latency), a few
hundred milliseconds before the trial would train, on the trial's device with other workers possibly
running (a config near the limit may fall either side). A config over the limit becomes a skipped
trial (:attr:`~automl.store.TrialState.SKIPPED`): no trial of the budget, of the failure streak or of the
stall rule. The Optuna backend stores it as PRUNED with a constraint value (how far over, relative), which
is how its samplers learn a config is infeasible: TPE and NSGA read only complete and pruned trials, and
rank an infeasible one below every feasible one; a failed trial would teach them nothing.

A sampler may still propose over the limit many times in a row: at the start, before it has learnt, or
when most of the space is over it. After :data:`OVER_LIMIT_IN_A_ROW` such proposals in a row, the next
config is drawn from the feasible region of ``max_params``: random configs from the space's own prior
(what the random sampler draws), the first that fits. Rejection keeps that draw uniform over the
feasible part of the prior, so it favours no size within the limit (a shrink-until-it-fits rule would
favour the smallest). Timing thousands of draws for the latency limit would take minutes: that one
relies on the sampler and on the cap below.
When none of :data:`FEASIBLE_DRAWS` draws fits, or the study holds :data:`OVER_LIMIT_CAP` times its trial
budget in skipped configs, the search stops with a one-line reason.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from automl.engine._runner import OverLimit, TrialOutcome
from automl.exceptions import ConfigError, UserError
from automl.outcomes import StopReason
from automl.store import TrialRecord, TrialState

if TYPE_CHECKING:
    from automl.datasets import Dataset
    from automl.engine._runner import TrialRunner
    from automl.space import Parameter, SearchSpace

__all__ = ["FEASIBLE_DRAWS", "OVER_LIMIT_CAP", "OVER_LIMIT_IN_A_ROW", "Limits", "search_limits"]

log = logging.getLogger("automl.limits")

#: proposals over the limit in a row after which the next config comes from the feasible region
OVER_LIMIT_IN_A_ROW = 5
#: skipped configs the study may hold, in multiples of the trial budget, before the search stops
OVER_LIMIT_CAP = 10
#: random configs drawn to find one within the limit (about 50 µs each) before the search gives up
FEASIBLE_DRAWS = 5_000
#: random configs drawn, beside the smallest values of each parameter, to find the space's smallest model
_SMALLEST_DRAWS = 500


@dataclass(frozen=True)
class Limits:
    """``max_params`` and ``max_latency_ms`` of ``space`` on ``dataset`` (either None: no such limit):
    which configs are over them, and configs within ``max_params``."""

    space: SearchSpace
    dataset: Dataset
    max_params: int | None
    max_latency_ms: float | None = None

    def weights(self, config: Mapping[str, Any]) -> int | None:
        """The weights of ``config``'s model; None for a config the model cannot plan (its training
        then fails it with the reason, as without a limit)."""
        from automl.model import count_params

        try:
            return count_params(config, self.dataset, family=self.space.family)
        except ConfigError:
            return None

    def latency(self, config: Mapping[str, Any]) -> float | None:
        """Milliseconds per row at batch 1 of ``config``'s model, built untrained; None when it cannot be
        built or timed (its training then says why)."""
        from automl.training import footprint_of

        try:
            return footprint_of(dict(config), self.dataset, family=self.space.family, seconds=0.3).latency_ms
        except Exception as exc:  # a config that cannot be built fails as a trial, not here
            log.debug("latency of %s not measured: %s", config, exc)
            return None

    def over(self, config: Mapping[str, Any]) -> OverLimit | None:
        """Which limit ``config`` is over and how far (relative), or None within every limit."""
        if self.max_params is not None:
            weights = self.weights(config)
            if weights is not None and weights > self.max_params:
                return OverLimit(
                    "max_params",
                    weights / self.max_params - 1.0,
                    f"{weights:,} weights > max_params {self.max_params:,}",
                )
        if self.max_latency_ms is not None:
            latency = self.latency(config)
            if latency is not None and latency > self.max_latency_ms:
                return OverLimit(
                    "max_latency_ms",
                    latency / self.max_latency_ms - 1.0,
                    f"{latency:.3g} ms per row > max_latency_ms {self.max_latency_ms:g}",
                )
        return None

    def skipped(
        self,
        config: dict[str, Any],
        *,
        number: int,
        params: dict[str, Any] | None,
        retry_of: int | None,
        runner: TrialRunner,
    ) -> TrialOutcome | None:
        """The SKIPPED outcome of trial ``number`` when ``config`` is over a limit; None within them."""
        over = self.over(config)
        if over is None:
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
            failure=f"over_limit: {over.reason}",
            device=runner.device,
            worker=runner.worker,
            retry_of=retry_of,
        )
        return TrialOutcome(TrialState.SKIPPED, None, record, over_limit=over)

    def feasible(self, rng: np.random.Generator) -> dict[str, Any] | None:
        """The searched values of a random config within ``max_params`` (see module doc); None without that
        limit, or if none of :data:`FEASIBLE_DRAWS` draws fits."""
        if self.max_params is None:
            return None
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
        """Raise UserError when even the space's smallest model is over ``max_params``: nothing would
        train. (A latency limit is not checked up front: timing the smallest model would load Keras.)"""
        if self.max_params is None:
            return
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


def search_limits(space: SearchSpace, dataset: Dataset) -> Limits | None:
    """The space's limits on ``dataset``, or None when it sets none."""
    if space.max_params is None and space.max_latency_ms is None:
        return None
    return Limits(
        space,
        dataset,
        None if space.max_params is None else int(space.max_params),
        None if space.max_latency_ms is None else float(space.max_latency_ms),
    )
