"""The neutral search space in Optuna's terms: distributions, and define-by-run suggestion."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from automl.space import Bool, Choice, Fixed, Float, Int, Parameter, SearchSpace

if TYPE_CHECKING:
    import optuna

__all__ = ["distribution", "suggest"]


def distribution(p: Parameter) -> optuna.distributions.BaseDistribution | None:
    """The Optuna distribution of ``p`` (None for a fixed value, which is never searched)."""
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

    if isinstance(p, Int):
        return IntDistribution(int(p.low), int(p.high), log=p.log, step=int(p.step or 1))
    if isinstance(p, Float):
        return FloatDistribution(p.low, p.high, log=p.log, step=p.step)
    if isinstance(p, Choice):
        return CategoricalDistribution(p.values)
    if isinstance(p, Bool):
        return CategoricalDistribution((False, True))
    if isinstance(p, Fixed):
        return None
    raise TypeError(f"no Optuna distribution for {type(p).__name__}")


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
