"""The Backend interface: a search library (Optuna, KerasTuner) behind one small contract."""

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from automl.backends._registry import BACKENDS, BackendSpec, Option, backend_spec

if TYPE_CHECKING:
    import optuna

    from automl.engine import Session
    from automl.space import SearchSpace

__all__ = ["BACKENDS", "Backend", "Option", "get_backend"]


class Backend(ABC):
    """Proposes configs from a search space and drives trials until the session says stop.

    Lifecycle: a backend is constructed with its algorithm and pruner names, which are checked at once
    (:class:`UserError` naming the valid ones), then :meth:`search` is called once per process. The
    backend owns *which* configs to try and *when* to stop a trial early; the session owns everything
    else: training (:meth:`Session.run_trial`, the same for every backend), the trial budget, the
    wall-clock budget, failure counting and progress. Every trial, whatever its state, must end up in
    ``session.study`` (the Optuna store) with ``record.user_attrs()`` as user attributes, so
    leaderboards and resume read one format.

    Subclasses declare only ``name``: their algorithms, pruners and options (Hyperband's ``factor``, TPE's
    start-up trials) are declared in :mod:`automl.backends._registry` under that name, which is what
    the CLI and experiment files check without importing the backend, and what construction checks.
    """

    name: ClassVar[str]

    def __init__(
        self,
        *,
        algorithm: str | None = None,
        pruner: str | None = None,
        seed: int = 0,
        options: dict[str, Any] | None = None,
    ) -> None:
        choice = self.spec.resolve(algorithm=algorithm, pruner=pruner, options=options)
        self.algorithm = choice.algorithm
        self.pruner = choice.pruner
        self.seed = seed
        self.options: dict[str, Any] = dict(choice.options)

    @property
    def spec(self) -> BackendSpec:
        """This backend's entry in the registry."""
        return backend_spec(self.name)

    def option(self, key: str) -> Any:
        """Option ``key`` as given, else its declared default (None: the library decides)."""
        if key in self.options:
            return self.options[key]
        return self.spec.options_for(self.algorithm, self.pruner)[key].default

    def prepare_study(self, study: optuna.Study, space: SearchSpace) -> None:  # noqa: B027 (optional hook)
        """Called once by the process that opens the study, before any search (none by default).

        For work that must not be repeated by each worker process, such as enqueueing a fixed plan.
        """

    def warm_start_problem(self) -> str | None:
        """Why this backend's algorithm cannot try given configs first (a warm start), or None if it can.

        The default is that it cannot; a backend that overrides :meth:`enqueue` says None here.
        """
        return f"the {self.name} backend cannot try given configs first"

    def enqueue(self, study: optuna.Study, space: SearchSpace, configs: list[dict[str, Any]]) -> None:  # noqa: B027
        """Have the first trials try ``configs`` (searched params, in order) before the algorithm proposes.

        Called once, by the process that opened a new study, after :meth:`prepare_study` and before any
        search; the configs are also recorded in the study (``automl.warm_start`` user attribute).
        """

    def cv_refusal(self) -> str | None:
        """Why this backend cannot score trials by K-fold cross-validation, or None when it can."""
        return None

    def objectives_refusal(self, objectives: Sequence[str]) -> str | None:
        """Why this backend cannot search for a trade-off between the score and ``objectives`` (``size``,
        ``latency``, ``params``: :mod:`automl.objectives`), or None when it can. Default: it cannot."""
        return f"the {self.name} backend searches on the score alone" if objectives else None

    @abstractmethod
    def search(self, session: Session) -> None:
        """Run trials via ``session.run_trial`` until ``session.should_stop()``; record each in the study."""


def get_backend(name: str) -> type[Backend]:
    """The backend class called ``name``, imported now. Raises UserError listing the known backends."""
    module, cls = backend_spec(name).implementation.split(":")
    return getattr(importlib.import_module(module), cls)


def recorded_backend(entry: Any, seed: int) -> Backend:
    """The backend a run recorded (a manifest's :class:`~automl.store.BackendEntry`), seeded with ``seed``."""
    return get_backend(entry.name)(
        algorithm=entry.algorithm, pruner=entry.pruner, seed=seed, options=dict(entry.options or {})
    )
