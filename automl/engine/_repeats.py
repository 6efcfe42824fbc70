"""A config the study already finished is not trained again: its result is reused, marked as a repeat.

Samplers propose repeats on discrete spaces (Optuna's TPE once it has converged, KerasTuner's oracles after
their own duplicate check gives up), and training one again would spend the budget on a result the study
already holds. Two configs are the same when their integers and choices are equal and their floats agree
to :data:`FLOAT_DIGITS` significant digits (a sampler's float rarely repeats exactly, and beyond that
precision no fit tells two learning rates apart).

The repeat is a finished trial of its own (it counts toward the trial budget and the stall rule, and its
score tells the sampler what it proposed) that carries the original's record: its score, curve, epochs
and seed, with ``repeat_of`` naming the original and no training time. Only complete and pruned originals
are reused: a failure may have been the process's, not the config's. Leaderboards rank the original alone
and say how many proposals were repeats; the retrain never picks a config twice.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from automl.engine._runner import TrialOutcome
from automl.store import TrialRecord, over_limit

if TYPE_CHECKING:
    import optuna

    from automl.engine._runner import TrialRunner

__all__ = ["FLOAT_DIGITS", "config_key", "repeated"]

#: significant digits two floats of a config must share to count as the same value
FLOAT_DIGITS = 6


def config_key(config: Mapping[str, Any]) -> tuple[tuple[str, Any], ...]:
    """What makes two configs the same (see module doc): sorted items, floats rounded."""

    def value(v: Any) -> Any:
        if isinstance(v, float):
            return float(f"{v:.{FLOAT_DIGITS}g}")
        return v

    return tuple(sorted((str(k), value(v)) for k, v in config.items()))


def repeated(
    study: optuna.Study,
    config: dict[str, Any],
    *,
    number: int,
    params: dict[str, Any] | None,
    retry_of: int | None,
    runner: TrialRunner,
) -> TrialOutcome | None:
    """The outcome of trial ``number`` reusing the study's finished trial of the same config, or None."""
    from optuna.trial import TrialState as OptunaState

    key = config_key(config)
    for trial in study.get_trials(deepcopy=False, states=(OptunaState.COMPLETE, OptunaState.PRUNED)):
        if trial.number == number or over_limit(trial) or trial.user_attrs.get("repeat_of") is not None:
            continue
        if config_key(trial.user_attrs.get("config") or trial.params) != key:
            continue
        original = TrialRecord.from_frozen(trial)
        record = replace(
            original,
            number=number,
            params=dict(params if params is not None else config),
            config=dict(config),
            fit_seconds=0.0,
            repeat_of=trial.number,
            retry_of=retry_of,
            resumed_at=None,
            device=runner.device,
            worker=runner.worker,
            started=None,
            finished=None,
        )
        return TrialOutcome(original.state, original.score, record)
    return None
