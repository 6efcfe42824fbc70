"""A neutral parameter as an Optuna distribution: how every backend's trials are recorded in the storage
(the Optuna backend suggests from them; the KerasTuner backend mirrors its trials with them)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from automl.space import Bool, Choice, Fixed, Float, Int, Parameter

if TYPE_CHECKING:
    import optuna

__all__ = ["distribution"]


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
