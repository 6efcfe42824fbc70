"""The Backend interface: a search library (Optuna, KerasTuner) behind one small contract."""

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from automl.exceptions import UserError

if TYPE_CHECKING:
    from automl.engine import SearchSession

__all__ = ["BACKENDS", "Backend", "Option", "get_backend"]


@dataclass(frozen=True)
class Option:
    """A setting of one algorithm or pruner that a user may change (``--option factor=2``)."""

    kind: type  # int, float or str
    help: str
    minimum: float | None = None

    def check(self, name: str, value: Any, owner: str) -> Any:
        """``value`` converted to :attr:`kind`; UserError naming the option and what it takes."""
        wanted = {int: "an integer", float: "a number", str: "a string"}[self.kind]
        if self.kind is str:
            ok = isinstance(value, str) and value != ""
        elif self.kind is int:
            ok = isinstance(value, int) and not isinstance(value, bool)
        else:
            ok = isinstance(value, int | float) and not isinstance(value, bool)
        if not ok:
            raise UserError(f"option {name} of {owner} takes {wanted} ({self.help}), not {value!r}")
        if self.minimum is not None and value < self.minimum:
            raise UserError(f"option {name} of {owner} must be at least {self.minimum:g}, not {value!r}")
        return self.kind(value)


class Backend(ABC):
    """Proposes configs from a search space and drives trials until the session says stop.

    Lifecycle: a backend is constructed with its algorithm and pruner names, which are checked at once
    (:class:`UserError` naming the valid ones), then :meth:`search` is called once per process. The
    backend owns *which* configs to try and *when* to stop a trial early; the session owns everything
    else: training (:meth:`SearchSession.run_trial`, the same for every backend), the trial budget, the
    wall-clock budget, failure counting and progress. Every trial, whatever its state, must end up in
    ``session.study`` (the Optuna store) with ``record.user_attrs()`` as user attributes, so
    leaderboards and resume read one format.

    Subclasses declare ``name``, ``algorithms`` and ``pruners`` (first = default). ``"none"`` is the
    pruner of algorithms that stop trials early by themselves (Hyperband). Settings of an algorithm or
    pruner beyond its name (Hyperband's ``factor``, TPE's start-up trials) are ``options``, declared by
    :meth:`allowed_options` and checked at construction.
    """

    name: ClassVar[str]
    algorithms: ClassVar[tuple[str, ...]]
    pruners: ClassVar[tuple[str, ...]] = ("none",)

    def __init__(
        self,
        *,
        algorithm: str | None = None,
        pruner: str | None = None,
        seed: int = 0,
        options: dict[str, Any] | None = None,
    ) -> None:
        self.algorithm = algorithm or self.algorithms[0]
        self.pruner = pruner or self.default_pruner(self.algorithm)
        if self.algorithm not in self.algorithms:
            raise UserError(
                f"unknown algorithm {self.algorithm!r} for backend {self.name}; "
                f"use one of: {', '.join(self.algorithms)}"
            )
        if self.pruner not in self.pruners:
            raise UserError(
                f"unknown pruner {self.pruner!r} for backend {self.name}; "
                f"use one of: {', '.join(self.pruners)}"
            )
        self.seed = seed
        allowed = self.allowed_options()
        owner = f"{self.name}/{self.algorithm}" + (
            f" with pruner {self.pruner}" if self.pruner != "none" else ""
        )
        self.options: dict[str, Any] = {}
        for key, value in (options or {}).items():
            if key not in allowed:
                choices = ", ".join(sorted(allowed)) or "none (this algorithm has no options)"
                raise UserError(f"unknown option {key!r} for {owner}; use any of: {choices}")
            self.options[key] = allowed[key].check(key, value, owner)

    def allowed_options(self) -> dict[str, Option]:
        """The options of this algorithm and pruner, by name (none by default)."""
        return {}

    @classmethod
    def default_pruner(cls, algorithm: str) -> str:
        return cls.pruners[0]

    @abstractmethod
    def search(self, session: SearchSession) -> None:
        """Run trials via ``session.run_trial`` until ``session.should_stop()``; record each in the study."""


#: backend name -> "module:class"; imported only when asked for, so the CLI starts without them.
BACKENDS = {
    "optuna": "automl.backends.optuna:OptunaBackend",
    "keras_tuner": "automl.backends.keras_tuner:KerasTunerBackend",
}


def get_backend(name: str) -> type[Backend]:
    """The backend class called ``name``. Raises UserError listing the known backends."""
    target = BACKENDS.get(name)
    if target is None:
        raise UserError(f"unknown backend {name!r}; use one of: {', '.join(BACKENDS)}")
    module, cls = target.split(":")
    return getattr(importlib.import_module(module), cls)
