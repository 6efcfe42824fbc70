"""Typed hyperparameters as frozen value objects, validated when constructed.

A parameter knows its domain, how to sample from it, whether a value belongs to it and how to write
itself as the dict of the YAML format. Conditions are data: ``active_if`` maps a parent parameter to the
values for which this one is active (all parents must agree). ``per_layer`` names an integer parameter
(e.g. ``depth``) that expands this one into ``name_0 … name_{high-1}`` (see :class:`SearchSpace`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from automl.exceptions import SpaceError

__all__ = ["Bool", "Choice", "Fixed", "Float", "Int", "Parameter", "Scalar"]

Scalar = bool | int | float | str
Conditions = tuple[tuple[str, tuple[Scalar, ...]], ...]


def _freeze_conditions(active_if: Mapping[str, Sequence[Scalar]] | Conditions | None) -> Conditions:
    if not active_if:
        return ()
    items = active_if.items() if isinstance(active_if, Mapping) else active_if
    frozen = []
    for parent, values in items:
        if isinstance(values, str | bool | int | float):
            values = (values,)
        frozen.append((str(parent), tuple(values)))
    return tuple(frozen)


@dataclass(frozen=True)
class Parameter:
    """Base of every parameter: a name, an optional condition and an optional per-layer expansion."""

    type_name: ClassVar[str] = ""

    name: str
    active_if: Conditions = field(default=(), kw_only=True)
    per_layer: str | None = field(default=None, kw_only=True)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.isidentifier():
            raise SpaceError(f"parameter name {self.name!r} must be an identifier (letters, digits, _)")
        object.__setattr__(self, "active_if", _freeze_conditions(self.active_if))

    @property
    def conditions(self) -> dict[str, tuple[Scalar, ...]]:
        return dict(self.active_if)

    def contains(self, value: Any) -> bool:
        """Whether ``value`` lies in this parameter's domain."""
        raise NotImplementedError

    def sample(self, rng: np.random.Generator) -> Scalar:
        raise NotImplementedError

    def grid(self) -> list[Scalar] | None:
        """Every value of the domain when it is finite, else None."""
        raise NotImplementedError

    @property
    def default_value(self) -> Scalar:
        raise NotImplementedError

    def describe(self) -> str:
        """Short human description of the domain, e.g. ``int [1, 4]`` or ``log float [1e-05, 0.1]``."""
        raise NotImplementedError

    def _extra_dict(self) -> dict[str, Any]:
        return {}

    def to_dict(self) -> dict[str, Any]:
        """The YAML-format dict of this parameter (without its name)."""
        out: dict[str, Any] = {"type": self.type_name, **self._extra_dict()}
        if self.per_layer:
            out["per_layer"] = self.per_layer
        if self.active_if:
            out["active_if"] = {p: list(v) for p, v in self.active_if}
        return out


def _check_number(name: str, key: str, value: Any, kind: type) -> None:
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    if kind is int:
        ok = ok and float(value).is_integer()
    if not ok or not math.isfinite(float(value)):
        what = "an integer" if kind is int else "a number"
        raise SpaceError(f"{name}.{key}: must be {what}, but got {value!r}")


@dataclass(frozen=True)
class _Numeric(Parameter):
    low: float = 0.0
    high: float = 1.0
    step: float | None = field(default=None, kw_only=True)
    log: bool = field(default=False, kw_only=True)
    default: float | None = field(default=None, kw_only=True)

    _kind: ClassVar[type] = float

    def __post_init__(self) -> None:
        super().__post_init__()
        n = self.name
        _check_number(n, "low", self.low, self._kind)
        _check_number(n, "high", self.high, self._kind)
        low, high = self._kind(self.low), self._kind(self.high)
        object.__setattr__(self, "low", low)
        object.__setattr__(self, "high", high)
        if low > high:
            raise SpaceError(f"{n}: `low <= high` must hold, but got low={low}, high={high}; swap them")
        if self.log and self.step is not None:
            raise SpaceError(
                f"{n}: `log` and `step` cannot be used together (Optuna rejects the pair and KerasTuner "
                "reads step as a factor); remove one of them"
            )
        if self.log and low <= 0:
            raise SpaceError(f"{n}: `log: true` needs low > 0, but got low={low}; raise low or drop log")
        if self.step is not None:
            _check_number(n, "step", self.step, self._kind)
            if self.step <= 0:
                raise SpaceError(f"{n}.step: must be > 0, but got {self.step}")
            object.__setattr__(self, "step", self._kind(self.step))
        if self.default is not None:
            _check_number(n, "default", self.default, self._kind)
            object.__setattr__(self, "default", self._kind(self.default))
            if not self.contains(self.default):
                raise SpaceError(
                    f"{n}.default: {self.default} is outside {self.describe()}; pick a value inside"
                )

    def contains(self, value: Any) -> bool:
        if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
            return False
        if self._kind is int and not float(value).is_integer():
            return False
        if not (self.low <= value <= self.high):
            return False
        if self.step is not None:
            k = (value - self.low) / self.step
            return math.isclose(k, round(k), abs_tol=1e-9)
        return True

    def sample(self, rng: np.random.Generator) -> Scalar:
        if self.step is not None:
            grid = self.grid()
            assert grid is not None
            return grid[int(rng.integers(len(grid)))]
        if self.log:
            value = math.exp(rng.uniform(math.log(self.low), math.log(self.high)))
        elif self._kind is int:
            return int(rng.integers(int(self.low), int(self.high) + 1))
        else:
            value = rng.uniform(self.low, self.high)
        if self._kind is int:
            return int(min(max(round(value), self.low), self.high))
        return float(min(max(value, self.low), self.high))

    def grid(self) -> list[Scalar] | None:
        if self.step is None:
            # Integers are finite with an implied step of 1; floats need an explicit step.
            return list(range(int(self.low), int(self.high) + 1)) if self._kind is int else None
        count = math.floor((self.high - self.low) / self.step + 1e-9) + 1
        return [self._kind(self.low + i * self.step) for i in range(count)]

    @property
    def default_value(self) -> Scalar:
        if self.default is not None:
            return self.default
        mid = math.sqrt(self.low * self.high) if self.log else (self.low + self.high) / 2
        if self._kind is int:
            return round(mid)
        if self.step is not None:
            return self.low + round((mid - self.low) / self.step) * self.step
        return float(mid)

    def describe(self) -> str:
        kind = "int" if self._kind is int else "float"
        extra = f" step {self.step:g}" if self.step is not None else ""
        return f"{'log ' if self.log else ''}{kind} [{self.low:g}, {self.high:g}]{extra}"

    def _extra_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"low": self.low, "high": self.high}
        if self.log:
            out["log"] = True
        if self.step is not None:
            out["step"] = self.step
        if self.default is not None:
            out["default"] = self.default
        return out


@dataclass(frozen=True)
class Int(_Numeric):
    """An integer in ``[low, high]``; ``log`` samples uniformly in log space, ``step`` restricts to a grid."""

    type_name: ClassVar[str] = "int"
    _kind: ClassVar[type] = int
    low: int = 0
    high: int = 1


@dataclass(frozen=True)
class Float(_Numeric):
    """A real number in ``[low, high]``; ``log`` samples log-uniformly, ``step`` restricts to a grid."""

    type_name: ClassVar[str] = "float"


@dataclass(frozen=True)
class Choice(Parameter):
    """One of a list of values (strings, numbers or booleans), unordered."""

    type_name: ClassVar[str] = "choice"

    values: tuple[Scalar, ...] = ()
    default: Scalar | None = field(default=None, kw_only=True)

    def __post_init__(self) -> None:
        super().__post_init__()
        values = tuple(self.values) if not isinstance(self.values, str) else (self.values,)
        object.__setattr__(self, "values", values)
        if not values:
            raise SpaceError(f"{self.name}.values: must list at least one value")
        for v in values:
            if not isinstance(v, bool | int | float | str):
                raise SpaceError(f"{self.name}.values: {v!r} is not a string, number or boolean")
        if len(set(values)) != len(values):
            dupes = sorted({str(v) for v in values if values.count(v) > 1})
            raise SpaceError(f"{self.name}.values: duplicate values {dupes}; list each value once")
        if self.default is not None and not self.contains(self.default):
            raise SpaceError(f"{self.name}.default: {self.default!r} is not one of {list(values)}")

    def contains(self, value: Any) -> bool:
        # `True == 1` in Python: compare types too, so a bool never passes for an int choice.
        return any(value == v and type(value) is type(v) for v in self.values) or (
            isinstance(value, int | float)
            and not isinstance(value, bool)
            and any(
                isinstance(v, int | float) and not isinstance(v, bool) and v == value for v in self.values
            )
        )

    def sample(self, rng: np.random.Generator) -> Scalar:
        return self.values[int(rng.integers(len(self.values)))]

    def grid(self) -> list[Scalar]:
        return list(self.values)

    @property
    def default_value(self) -> Scalar:
        return self.default if self.default is not None else self.values[0]

    def describe(self) -> str:
        return "choice {" + ", ".join(str(v) for v in self.values) + "}"

    def _extra_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"values": list(self.values)}
        if self.default is not None:
            out["default"] = self.default
        return out


@dataclass(frozen=True)
class Bool(Parameter):
    """True or False."""

    type_name: ClassVar[str] = "bool"

    default: bool | None = field(default=None, kw_only=True)

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.default is not None and not isinstance(self.default, bool):
            raise SpaceError(f"{self.name}.default: must be true or false, but got {self.default!r}")

    def contains(self, value: Any) -> bool:
        return isinstance(value, bool | np.bool_)

    def sample(self, rng: np.random.Generator) -> Scalar:
        return bool(rng.integers(2))

    def grid(self) -> list[Scalar]:
        return [False, True]

    @property
    def default_value(self) -> Scalar:
        return bool(self.default)

    def describe(self) -> str:
        return "bool"

    def _extra_dict(self) -> dict[str, Any]:
        return {} if self.default is None else {"default": self.default}


@dataclass(frozen=True)
class Fixed(Parameter):
    """A constant: part of every config, never searched (e.g. the epoch budget)."""

    type_name: ClassVar[str] = "fixed"

    value: Scalar = 0

    def __post_init__(self) -> None:
        super().__post_init__()
        if not isinstance(self.value, bool | int | float | str):
            raise SpaceError(
                f"{self.name}.value: must be a string, number or boolean, but got {self.value!r}"
            )

    def contains(self, value: Any) -> bool:
        return value == self.value and isinstance(value, bool) == isinstance(self.value, bool)

    def sample(self, rng: np.random.Generator) -> Scalar:
        return self.value

    def grid(self) -> list[Scalar]:
        return [self.value]

    @property
    def default_value(self) -> Scalar:
        return self.value

    def describe(self) -> str:
        return f"fixed {self.value}"

    def _extra_dict(self) -> dict[str, Any]:
        return {"value": self.value}
