"""The neutral search space in Optuna's terms: define-by-run suggestion (distributions: `_distributions`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from automl.space import Choice, Float, Int, Parameter, SearchSpace

if TYPE_CHECKING:
    import optuna

__all__ = ["suggest"]


def suggest(trial: optuna.Trial, space: SearchSpace) -> tuple[dict[str, Any], dict[str, Any]]:
    """Walk ``space`` in define-by-run order; return (config, searched params).

    Conditional parameters are suggested only when their parents' values make them active, so a trial's
    params never hold an inactive value. Fixed values join the config without being suggested.
    """

    def choose(p: Parameter) -> Any:
        if isinstance(p, Int):
            return trial.suggest_int(p.name, int(p.low), int(p.high), log=p.log, step=int(p.step or 1))
        if isinstance(p, Float):
            return trial.suggest_float(p.name, p.low, p.high, log=p.log, step=p.step)
        if isinstance(p, Choice):
            return trial.suggest_categorical(p.name, p.values)
        return trial.suggest_categorical(p.name, (False, True))

    return space.walk(choose)
