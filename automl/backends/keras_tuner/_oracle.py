"""The KerasTuner oracle of a search: the algorithm's class, automl's budget rules, atomic state files.

KerasTuner's own limits are off (no ``max_trials``, Hyperband iterates until stopped, no
consecutive-failure limit): automl's session owns the budget. Random and bayesian oracles propose the
study's warm-start configs first (:mod:`._queue`); Hyperband and grid take no queue.
"""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING, Any

from automl import _keras  # noqa: F401  first: it sets the Keras backend before keras_tuner imports Keras

import keras_tuner  # isort: skip

from automl._diskspace import writing
from automl.backends.keras_tuner._queue import QueuedOracle, queued_values
from automl.backends.keras_tuner._space import declare
from automl.exceptions import UserError
from automl.warmstart import WARM_START_ATTR

if TYPE_CHECKING:
    from automl.backends.keras_tuner._backend import KerasTunerBackend
    from automl.space import SearchSpace

__all__ = ["build_oracle", "write_json"]

_NO_LIMIT = 10**9  # KerasTuner's consecutive-failure limit, disabled: the session owns that rule

_ORACLES = {
    "random": keras_tuner.oracles.RandomSearchOracle,
    "bayesian": keras_tuner.oracles.BayesianOptimizationOracle,
    "hyperband": keras_tuner.oracles.HyperbandOracle,
    "grid": keras_tuner.oracles.GridSearchOracle,
}


def write_json(path: str, obj: Any) -> None:
    """KerasTuner's state files, written whole or not at all: a Ctrl-C mid-write must not break resume."""
    tmp = f"{path}.tmp"
    with writing(os.path.dirname(path) or "."):
        with open(tmp, "w", encoding="utf-8") as handle:
            handle.write(json.dumps(obj))
        os.replace(tmp, path)


class _AtomicFiles:
    """Oracle mixin: ``oracle.json`` and each ``trial.json`` saved through :func:`write_json`."""

    def save(self: Any) -> None:
        write_json(self._get_oracle_fname(), self.get_state())

    def _save_trial(self: Any, trial: Any) -> None:
        write_json(os.path.join(self._get_trial_dir(trial.trial_id), "trial.json"), trial.get_state())


def _oracle_seed(seed: int) -> int:
    # KerasTuner reads seed 0 as "no seed" (`seed or random.randint(...)`): shift it so 0 stays seeded.
    return seed + 1 if seed >= 0 else seed


def build_oracle(
    backend: KerasTunerBackend,
    space: SearchSpace,
    study: Any,
    objective: str,
    maximize: bool,
    max_epochs: int,
) -> Any:
    """The oracle of ``backend.algorithm`` over ``space``, optimising ``objective``.

    Raises:
        UserError: grid search over a space that has no finite grid.
    """
    algorithm, options = backend.algorithm, backend.options
    if algorithm == "grid":
        problem = space.grid_problem()
        if problem:
            raise UserError(f"{space.source}: {problem}")
    hp = keras_tuner.HyperParameters()
    declare(hp, space)
    kwargs: dict[str, Any] = {
        "objective": keras_tuner.Objective(objective, direction="max" if maximize else "min"),
        "hyperparameters": hp,
        "seed": _oracle_seed(backend.seed),
        "max_retries_per_trial": 0,
        "max_consecutive_failed_trials": _NO_LIMIT,
    }
    # The algorithm's own options are the oracle's keyword arguments (``directory`` is ours).
    oracle_options = backend.spec.algorithm_options.get(algorithm, {})
    kwargs.update({k: options[k] for k in oracle_options if k in options})
    base = _ORACLES[algorithm]
    if algorithm == "hyperband":
        kwargs["max_epochs"] = max_epochs
        kwargs["factor"] = backend.option("factor")
        kwargs.setdefault("hyperband_iterations", None)  # endless: automl's budget stops it
    else:
        kwargs["max_trials"] = None
    if backend.warm_start_problem() is not None:
        return type(f"Atomic{base.__name__}", (_AtomicFiles, base), {})(**kwargs)
    oracle = type(f"Queued{base.__name__}", (QueuedOracle, _AtomicFiles, base), {})(**kwargs)
    # The warm start recorded in the study when it was created: its configs are proposed first.
    warm = study.user_attrs.get(WARM_START_ATTR) or {}
    oracle.queued = tuple(queued_values(space, warm.get("configs") or []))
    return oracle
