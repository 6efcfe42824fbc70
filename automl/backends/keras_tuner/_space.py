"""The neutral search space in KerasTuner's terms: ``hp.*`` declarations, and configs read back from trials.

This module does not import keras_tuner (``_backend.py`` and ``_oracle.py`` import it): it is handed a
``keras_tuner.HyperParameters`` container and calls its public methods. Conditions become
``hp.conditional_scope(parent, values)``, nested when a parameter has several; KerasTuner then samples a
conditional parameter only while its scopes are active, as the Optuna adapter suggests it only when active.
"""

from __future__ import annotations

import math
from contextlib import ExitStack
from typing import Any

from automl.exceptions import Argument, UserError
from automl.space import Bool, Choice, Fixed, Float, Int, Parameter, SearchSpace

__all__ = ["config_from_values", "declare", "kt_value"]


def _kt_choices(p: Choice) -> list[Any]:
    """Choice values of one type, as KerasTuner requires; ints mixed with floats travel as floats."""
    numbers = [v for v in p.values if isinstance(v, int | float) and not isinstance(v, bool)]
    if len(numbers) == len(p.values) and any(isinstance(v, float) for v in numbers):
        return [float(v) for v in numbers]
    if len({type(v) for v in p.values}) > 1:
        raise UserError(
            "{param}: the keras_tuner backend needs choice values of one type, but got {values}; "
            "split the choice, or use {backend}",
            param=p.name,
            values=list(p.values),
            backend=Argument("backend", "optuna"),
        )
    return list(p.values)


def kt_value(p: Parameter, value: Any) -> Any:
    """A neutral value of ``p`` as KerasTuner holds it (the inverse of reading a trial's values back)."""
    if isinstance(p, Choice):
        return _kt_choices(p)[list(p.values).index(value)]
    if isinstance(p, Bool):
        return bool(value)
    if isinstance(p, Int):
        return int(value)
    if isinstance(p, Float):
        return float(value)
    return value


def _call(hp: Any, p: Parameter) -> None:
    """Register ``p`` in ``hp`` under the conditional scopes currently open."""
    if isinstance(p, Int):
        hp.Int(
            p.name,
            int(p.low),
            int(p.high),
            step=None if p.step is None else int(p.step),
            sampling="log" if p.log else "linear",
            default=int(p.default_value),
        )
    elif isinstance(p, Float):
        # The space forbids `log` with `step` (automl/space/_params.py), so KerasTuner's reading of
        # "step is a factor under log" cannot change a space's meaning.
        hp.Float(
            p.name,
            p.low,
            p.high,
            step=p.step,
            sampling="log" if p.log else "linear",
            default=float(p.default_value),
        )
    elif isinstance(p, Choice):
        values = _kt_choices(p)
        default = values[list(p.values).index(p.default_value)]
        hp.Choice(p.name, values, ordered=False, default=default)
    elif isinstance(p, Bool):
        hp.Boolean(p.name, default=bool(p.default_value))
    elif isinstance(p, Fixed):
        hp.Fixed(p.name, p.value)
    else:
        raise TypeError(f"no KerasTuner hyperparameter for {type(p).__name__}")


def _declare_with_conditions(hp: Any, p: Parameter) -> None:
    """Register ``p`` with all its conditions at once.

    ``conditional_scope`` checks that the parent exists *under the scopes already open*, so nesting the
    scopes of two unrelated parents (``units_1`` of a per-layer parameter that also has ``active_if``)
    is refused. KerasTuner's own serialised form takes any list of parent conditions: declare ``p`` alone,
    give it the conditions and merge it in.
    """
    scratch = type(hp)()
    _call(scratch, p)
    (declared,) = scratch.space
    config = declared.get_config()
    config["conditions"] = [
        {"class_name": "Parent", "config": {"name": parent, "values": list(values)}}
        for parent, values in p.active_if
    ]
    hp.merge([type(declared).from_config(config)])


def declare(hp: Any, space: SearchSpace) -> None:
    """Declare every parameter of ``space`` in ``hp`` (a ``keras_tuner.HyperParameters``), parents first.

    Raises:
        UserError: a choice whose values KerasTuner cannot hold (mixed types).
    """
    for p in space.parameters:
        try:
            with ExitStack() as scopes:
                for parent, values in p.active_if:
                    scopes.enter_context(hp.conditional_scope(parent, list(values)))
                _call(hp, p)
        except ValueError as exc:
            if "not defined" not in str(exc):
                raise UserError(f"{space.source}: {p.name}: KerasTuner rejects it: {exc}") from None
            _declare_with_conditions(hp, p)


def _neutral(p: Parameter, value: Any) -> Any:
    """KerasTuner's value of ``p`` as the neutral space writes it (in its domain, on its step grid)."""
    if isinstance(p, Fixed):
        return p.value
    if isinstance(p, Bool):
        return bool(value)
    if isinstance(p, Choice):
        for original in p.values:
            if original == value and isinstance(original, bool) == isinstance(value, bool):
                return original
        raise ValueError(f"KerasTuner proposed {value!r} for {p.name}, which is not one of {list(p.values)}")
    assert isinstance(p, Int | Float)
    number = min(max(float(value), p.low), p.high)
    if p.step is not None:
        # KerasTuner computes grid points with its own float arithmetic; snap to ours so the Optuna
        # distribution of the mirrored trial contains the value exactly.
        number = p.low + round((number - p.low) / p.step) * p.step
        number = min(number, p.high)
    if isinstance(p, Int):
        return round(number)
    return float(number) if math.isfinite(number) else p.low


def config_from_values(space: SearchSpace, values: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(config, searched params) from a KerasTuner trial's ``hyperparameters.values``.

    KerasTuner may hold values of inactive parameters (defaults filled in) and its own ``tuner/*`` keys;
    the config keeps the active parameters of ``space`` only, in define-by-run order, like the Optuna
    adapter's. Fixed values come from the space.
    """
    return space.walk(lambda p: _neutral(p, values.get(p.name, p.default_value)))
