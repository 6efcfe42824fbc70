"""SearchSpace: a validated, backend-neutral set of parameters with conditions written as data."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from functools import cached_property
from typing import Any

import numpy as np

from automl.exceptions import ConfigError, SpaceError, did_you_mean
from automl.space._params import Choice, Fixed, Int, Parameter, Scalar
from automl.space._vocab import FAMILIES, KNOWN_VALUES

__all__ = ["SearchSpace", "values_match"]


def values_match(value: Any, allowed: Iterable[Scalar]) -> bool:
    """Whether ``value`` equals one of ``allowed``, never letting a bool pass for a number or back."""
    for a in allowed:
        if isinstance(value, bool | np.bool_) != isinstance(a, bool):
            continue
        if value == a:
            return True
    return False


class SearchSpace:
    """A search space: typed parameters, their conditions, the model family and the objective.

    Parameters may be declared with ``per_layer="depth"``: they expand into ``name_0 … name_{high-1}``,
    where ``name_i`` is active only when ``depth > i``. :attr:`parameters` holds the expanded parameters
    in define-by-run order (parents before children), which is the order every backend suggests them in.

    Args:
        name: The space's name (a file ``mlp.yaml`` is loaded as ``mlp``).
        family: Which model builder reads the configs: ``mlp`` or ``cnn``.
        parameters: The declared parameters.
        objective: ``auto`` (accuracy for classification, rmse for regression) or a metric name.
        max_params: The most weights a model may have: a config over it is proposed but never trained
            (see :mod:`automl.engine._limits`). None: no limit.
        max_latency_ms: The most prediction time per row (batch 1, milliseconds) a model may take on the
            trial's device. None: no limit.
        description: Free text shown by ``automl spaces show``.
        source: Where the space came from (a file path), used in error messages.

    Raises:
        SpaceError: an unknown family or parameter, a condition on a missing parent or on values the
            parent cannot take, a cycle of conditions, or an invalid per-layer declaration.
    """

    def __init__(
        self,
        *,
        name: str,
        family: str = "mlp",
        parameters: Sequence[Parameter],
        objective: str = "auto",
        max_params: int | None = None,
        max_latency_ms: float | None = None,
        description: str = "",
        source: str | None = None,
    ) -> None:
        self.name = name
        self.family = family
        self.objective = objective
        self.max_params = max_params
        self.max_latency_ms = max_latency_ms
        self.description = description
        self.source = source or f"space {name!r}"
        self.declared: tuple[Parameter, ...] = tuple(parameters)
        self._check_declared()
        self.parameters: tuple[Parameter, ...] = self._ordered(self._expand())
        self._by_name = {p.name: p for p in self.parameters}

    # ----------------------------------------------------------------- validation
    def _fail(self, message: str) -> SpaceError:
        return SpaceError(f"{self.source}: {message}")

    def _check_declared(self) -> None:
        from automl.metrics import metric_names

        if self.family not in FAMILIES:
            raise self._fail(f"family: unknown family {self.family!r}; use one of: {', '.join(FAMILIES)}")
        if self.objective != "auto" and self.objective not in metric_names():
            raise self._fail(
                f"objective: unknown metric {self.objective!r}"
                f"{did_you_mean(self.objective, metric_names())}; "
                f"use auto or one of: {', '.join(metric_names())}"
            )
        if self.max_params is not None and (
            not isinstance(self.max_params, int) or isinstance(self.max_params, bool) or self.max_params < 1
        ):
            raise self._fail(f"max_params: {self.max_params!r} is not a whole number of weights ≥ 1")
        latency = self.max_latency_ms
        if latency is not None and (
            not isinstance(latency, int | float)
            or isinstance(latency, bool)
            or not 0 < latency < float("inf")
        ):
            raise self._fail(f"max_latency_ms: {latency!r} is not a number of milliseconds > 0")
        if not self.declared:
            raise self._fail("parameters: a search space needs at least one parameter")
        known = FAMILIES[self.family]
        names = [p.name for p in self.declared]
        by_name: dict[str, Parameter] = {}
        for p in self.declared:
            where = f"parameters.{p.name}"
            if p.name in by_name:
                raise self._fail(f"{where}: declared twice; keep one")
            by_name[p.name] = p
            if p.name not in known:
                raise self._fail(
                    f"{where}: unknown parameter for family {self.family}{did_you_mean(p.name, known)}; "
                    f"known: {', '.join(sorted(known))}"
                )
            allowed = KNOWN_VALUES.get(p.name)
            if allowed is not None:
                values = p.values if isinstance(p, Choice) else (p.value,) if isinstance(p, Fixed) else ()
                for v in values:
                    if v not in allowed:
                        raise self._fail(
                            f"{where}: unknown {p.name} {v!r}{did_you_mean(str(v), map(str, allowed))}; "
                            f"use any of: {', '.join(sorted(map(str, allowed)))}"
                        )
        for p in self.declared:
            where = f"parameters.{p.name}"
            for parent_name, values in p.active_if:
                parent = by_name.get(parent_name)
                if parent is None:
                    raise self._fail(
                        f"{where}.active_if: condition on {parent_name!r}, which is not a parameter of this "
                        f"space{did_you_mean(parent_name, names)}; declare it or remove the condition"
                    )
                if parent_name == p.name:
                    raise self._fail(f"{where}.active_if: a parameter cannot depend on itself")
                for v in values:
                    if not parent.contains(v):
                        raise self._fail(
                            f"{where}.active_if: {parent_name} can never be {v!r} ({parent.describe()}); "
                            "list values the parent can take"
                        )
            if p.per_layer is not None:
                layers = by_name.get(p.per_layer)
                if not isinstance(layers, Int | Fixed) or (
                    isinstance(layers, Fixed) and not _is_count(layers.value)
                ):
                    raise self._fail(
                        f"{where}.per_layer: {p.per_layer!r} must name an int parameter of this space "
                        f"(the number of layers){did_you_mean(p.per_layer, names)}"
                    )
                if isinstance(layers, Int) and layers.low < 0:
                    raise self._fail(f"{where}.per_layer: {p.per_layer} must have low >= 0")
                if isinstance(p, Fixed):
                    raise self._fail(
                        f"{where}.per_layer: a fixed value needs no per-layer copies; remove per_layer"
                    )

    def _expand(self) -> list[Parameter]:
        by_name = {p.name: p for p in self.declared}
        expanded: list[Parameter] = []
        for p in self.declared:
            if p.per_layer is None:
                expanded.append(p)
                continue
            layers = by_name[p.per_layer]
            counts = _layer_counts(layers)
            for i in range(max(counts)):
                conditions = dict(p.active_if)
                if i >= min(counts):
                    needed = tuple(c for c in counts if c > i)
                    prior = conditions.get(p.per_layer)
                    conditions[p.per_layer] = (
                        needed if prior is None else tuple(c for c in needed if c in prior)
                    )
                layer_name = f"{p.name}_{i}"
                if layer_name in by_name:
                    raise self._fail(
                        f"parameters.{p.name}: its layer copy {layer_name!r} clashes with a parameter"
                    )
                expanded.append(_renamed(p, layer_name, conditions))
        return expanded

    def _ordered(self, params: list[Parameter]) -> tuple[Parameter, ...]:
        # Stable topological sort: declaration order, except that a parent always precedes its children.
        done: set[str] = set()
        ordered: list[Parameter] = []
        pending = list(params)
        while pending:
            ready = [p for p in pending if all(parent in done for parent, _ in p.active_if)]
            if not ready:
                cycle = ", ".join(p.name for p in pending)
                raise self._fail(f"parameters: the conditions of {cycle} form a cycle; break it")
            first = ready[0]
            ordered.append(first)
            done.add(first.name)
            pending.remove(first)
        return tuple(ordered)

    # ----------------------------------------------------------------- queries
    def __iter__(self) -> Iterator[Parameter]:
        return iter(self.parameters)

    def __len__(self) -> int:
        return len(self.parameters)

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    def __getitem__(self, name: str) -> Parameter:
        return self._by_name[name]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SearchSpace) and self.to_dict() == other.to_dict()

    def __hash__(self) -> int:
        return hash(self.content_hash)

    def __repr__(self) -> str:
        return f"SearchSpace(name={self.name!r}, family={self.family!r}, parameters={len(self.parameters)})"

    @staticmethod
    def is_active(parameter: Parameter, config: Mapping[str, Any]) -> bool:
        """Whether ``parameter`` is active given the (partial) ``config`` of its parents."""
        return all(
            parent in config and values_match(config[parent], values)
            for parent, values in parameter.active_if
        )

    @property
    def fixed(self) -> dict[str, Scalar]:
        return {p.name: p.value for p in self.parameters if isinstance(p, Fixed)}

    @cached_property
    def content_hash(self) -> str:
        """Hash of the space's meaning (not of its file layout): a resumed search must use the same space."""
        text = json.dumps(self.to_dict(), sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    # ----------------------------------------------------------------- configs
    def walk(self, choose: Callable[[Parameter], Scalar]) -> tuple[dict[str, Scalar], dict[str, Scalar]]:
        """Define-by-run: ``(config, searched params)``, asking ``choose`` for each active searched parameter.

        The one walk behind sampling and every backend adapter (Optuna suggests, KerasTuner reads values
        back): parents come before children, a config holds the active parameters only, and fixed values
        come from the space without being searched.
        """
        config: dict[str, Scalar] = {}
        params: dict[str, Scalar] = {}
        for p in self.parameters:
            if not self.is_active(p, config):
                continue
            if isinstance(p, Fixed):
                config[p.name] = p.value
                continue
            config[p.name] = params[p.name] = choose(p)
        return config, params

    def sample(self, seed: int | np.random.Generator | None = None) -> dict[str, Scalar]:
        """A random config: a flat dict of the active parameters only, in define-by-run order."""
        rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
        return self.walk(lambda p: p.sample(rng))[0]

    def default_config(self) -> dict[str, Scalar]:
        """The config made of every parameter's default (active parameters only)."""
        return self.walk(lambda p: p.default_value)[0]

    def validate_config(self, config: Mapping[str, Any]) -> dict[str, Scalar]:
        """Check ``config`` against the space and return it in canonical order with plain Python types.

        Raises:
            ConfigError: an unknown key, a missing active parameter, a value given for an inactive one, or
                a value outside its parameter's domain.
        """
        unknown = [k for k in config if k not in self._by_name]
        if unknown:
            raise ConfigError(
                f"config: unknown parameter {unknown[0]!r}{did_you_mean(unknown[0], self._by_name)} "
                f"for space {self.name!r}; remove it"
            )
        checked: dict[str, Scalar] = {}
        for p in self.parameters:
            active = self.is_active(p, checked)
            if not active:
                if p.name in config:
                    why = ", ".join(f"{k} in {list(v)}" for k, v in p.active_if)
                    raise ConfigError(f"config: {p.name!r} is inactive here (it needs {why}); remove it")
                continue
            if p.name not in config:
                raise ConfigError(f"config: missing parameter {p.name!r} ({p.describe()}); add a value")
            value = _plain(config[p.name])
            if not p.contains(value):
                raise ConfigError(f"config: {p.name}={value!r} is outside {p.describe()}")
            if isinstance(p, Int):
                value = int(value)
            checked[p.name] = value
        return checked

    # ----------------------------------------------------------------- grids
    def grid_problem(self) -> str | None:
        """Why grid search cannot enumerate this space (the first infinite parameter), or None."""
        for p in self.declared:
            if p.grid() is None:
                return (
                    f"grid search needs a finite space, but {p.name!r} is a {p.describe()} without step; "
                    "add `step:` or make it a choice"
                )
        return None

    def grid_size(self) -> int:
        """Number of distinct configs of a finite space (conditional parameters counted only when active)."""
        problem = self.grid_problem()
        if problem:
            raise SpaceError(f"{self.source}: {problem}")
        return len(self._enumerate({}, 0))

    def _enumerate(self, prefix: dict[str, Scalar], index: int) -> list[dict[str, Scalar]]:
        if index == len(self.parameters):
            return [dict(prefix)]
        p = self.parameters[index]
        if not self.is_active(p, prefix):
            return self._enumerate(prefix, index + 1)
        out: list[dict[str, Scalar]] = []
        for v in p.grid() or ():
            prefix[p.name] = v
            out.extend(self._enumerate(prefix, index + 1))
            del prefix[p.name]
        return out

    def grid(self) -> list[dict[str, Scalar]]:
        """Every config of a finite space. Raises SpaceError naming the first infinite parameter."""
        problem = self.grid_problem()
        if problem:
            raise SpaceError(f"{self.source}: {problem}")
        return self._enumerate({}, 0)

    # ----------------------------------------------------------------- serialisation
    def to_dict(self) -> dict[str, Any]:
        """The versioned YAML-format dict (declared parameters, before per-layer expansion)."""
        out: dict[str, Any] = {
            "version": 1,
            "name": self.name,
            "family": self.family,
            "objective": self.objective,
        }
        if self.max_params is not None:
            out["max_params"] = self.max_params
        if self.max_latency_ms is not None:
            out["max_latency_ms"] = self.max_latency_ms
        if self.description:
            out["description"] = self.description
        out["parameters"] = {p.name: p.to_dict() for p in self.declared}
        return out

    def with_limits(
        self, *, max_params: int | None = None, max_latency_ms: float | None = None
    ) -> SearchSpace:
        """This space with the limits given here in place of its own (None keeps the space's)."""
        return SearchSpace(
            name=self.name,
            family=self.family,
            parameters=self.declared,
            objective=self.objective,
            max_params=self.max_params if max_params is None else max_params,
            max_latency_ms=self.max_latency_ms if max_latency_ms is None else max_latency_ms,
            description=self.description,
            source=self.source,
        )

    def to_yaml(self) -> str:
        """The space as YAML text, one flow-style line per parameter, loadable by :func:`load_space`."""
        from automl.space._io import dump_space

        return dump_space(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, source: str | None = None) -> SearchSpace:
        """Build a space from the YAML-format dict (see ``search_spaces/mlp.yaml``)."""
        from automl.space._io import space_from_dict

        return space_from_dict(data, source=source)


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _layer_counts(layers: Parameter) -> list[int]:
    if isinstance(layers, Fixed):
        return [int(layers.value)]  # type: ignore[arg-type]
    assert isinstance(layers, Int)
    return [c for c in range(int(layers.low), int(layers.high) + 1) if layers.contains(c)]


def _renamed(p: Parameter, name: str, conditions: dict[str, tuple[Scalar, ...]]) -> Parameter:
    import dataclasses

    return dataclasses.replace(p, name=name, active_if=tuple(conditions.items()), per_layer=None)


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value
