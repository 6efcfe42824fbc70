"""A warm start for KerasTuner's oracles: queued configs are proposed first, then the oracle's own.

KerasTuner has no queue of its own. Its random and Bayesian oracles propose through ``populate_space``;
:class:`QueuedOracle` (a mixin before the oracle class) returns the queued configs there first, each once:
a config the oracle has tried already (``_tried_so_far``, kept in ``oracle.json``, so also across a
resume, and whether this process or the chief proposed it) is skipped. The Bayesian oracle counts the
queued trials among its initial points. Hyperband proposes by brackets and grid search walks its grid, so
neither takes a queue (``KerasTunerBackend.warm_start_problem``).

The queue is the warm start recorded in the study (``automl.warm_start``), read by whichever process holds
the oracle: the search process alone, or the chief. This module does not import keras_tuner.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from automl.backends.keras_tuner._space import kt_value
from automl.space import Parameter, SearchSpace

__all__ = ["QueuedOracle", "queued_values"]


def queued_values(space: SearchSpace, configs: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """KerasTuner's ``hyperparameters.values`` for each config (searched params): the active parameters
    of ``space``, fixed ones included, as KerasTuner holds them, so its duplicate check recognises them."""
    queued = []
    for params in configs:

        def given(p: Parameter, params: Mapping[str, Any] = params) -> Any:
            return params[p.name]

        config, _ = space.walk(given)
        queued.append({name: kt_value(space[name], value) for name, value in config.items()})
    return queued


class QueuedOracle:
    """Oracle mixin: ``queued`` values first (each once), then the oracle's own ``populate_space``."""

    queued: tuple[dict[str, Any], ...] = ()

    def populate_space(self: Any, trial_id: str) -> dict[str, Any]:
        for values in self.queued:
            if not self._duplicate(values):
                return {"status": "RUNNING", "values": dict(values)}
        return super().populate_space(trial_id)  # type: ignore[misc]
