"""What a backend may use of a search session, and the trainer a session runs: the engine's contract.

A backend turns a search space into proposals; the engine does everything else. Typing a backend against
:class:`Session` (not :class:`~automl.engine.SearchSession`) keeps it from reaching into the runner, the
dataset or the progress display: those are the engine's to change.

Writing a third backend
-----------------------
1. Declare it in :mod:`automl.backends._registry` (name, algorithms, pruners, options): the CLI, experiment
   files and the README table read that, without importing the backend.
2. Subclass :class:`automl.backends.Backend` and implement ``search(session)``, one call per process:

   * **propose**: ask your library for a config of active parameters (a flat ``dict``; the space's
     ``walk`` or ``validate_config`` turn a library's raw values into one). Each proposal needs a trial
     number that no other process sharing the storage can hold: either create the trial in the store
     through Optuna (``study.ask()``/``study.optimize`` number it), or call :meth:`Session.reserve_trial`,
     which creates a RUNNING trial and returns the number the storage assigned.
   * **train**: :meth:`Session.run_trial` with that number. It never raises for a failing config (NaN,
     out of memory, timeout, an exception in Keras): the outcome says how it ended. It raises
     :class:`~automl.exceptions.UserError` for a user mistake and ``KeyboardInterrupt`` on Ctrl-C.
   * **record**: write ``outcome.record.user_attrs()`` on the trial in the store (or call
     :meth:`Session.finish_trial` for a reserved one), then :meth:`Session.trial_finished` so the
     session counts failures and progress. Every trial, whatever its state, must end up in the store.
   * **should stop**: before each proposal, :meth:`Session.should_stop`. The session owns the trial
     budget (counted in the store, over every process), the wall clock and the failure streak.
3. Subclass :class:`automl.testing.BackendContract` in a test module: the backend is done when it passes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import optuna

    from automl.engine._runner import ReportHook, TrialOutcome
    from automl.space import SearchSpace
    from automl.store import StudyInfo, TrialRecord
    from automl.training import TrainResult

__all__ = ["ReservedTrial", "Session", "Trainer"]


#: Trains one config on a dataset: :func:`automl.train`, or a stand-in with its signature. The engine
#: passes ``epochs``, ``seed``, ``metric``, ``model``, ``initial_epoch``, ``time_limit``, ``on_epoch``
#: (called with ``(epoch, validation score)``; True stops the fit, as pruning does) and ``family``. It
#: must not raise for a failing config: a failure is ``TrainResult.failure``.
Trainer = Callable[..., "TrainResult"]


#: builds a fresh, compiled model for a config (for backends that continue a checkpoint).
ModelBuilder = Callable[[dict[str, Any]], Any]


@dataclass(frozen=True)
class ReservedTrial:
    """A RUNNING trial created in the store before training: its number is the storage's, never a guess."""

    trial_id: int
    number: int


class Session(Protocol):
    """The members of a search session a backend may use (see the module doc for the lifecycle)."""

    @property
    def study(self) -> optuna.Study:
        """The Optuna study that stores every trial of this search (shared by all its processes)."""
        ...

    @property
    def space(self) -> SearchSpace: ...

    @property
    def info(self) -> StudyInfo:
        """The study's facts: dataset, metric, direction, baselines, seed."""
        ...

    @property
    def maximize(self) -> bool: ...

    @property
    def trial_budget(self) -> int | None:
        """Finished trials the study should hold (None: only time bounds the search)."""
        ...

    @property
    def worker(self) -> str:
        """This process as ``host:pid``: record it on a trial as it starts (attribute ``worker``), so a
        resume can tell a dead process's trial from a live one."""
        ...

    @property
    def device(self) -> str:
        """Where this process trains (``cpu slot 1``, ``gpu:0 slot 0``): record it on a trial as it
        starts too (attribute ``device``), so the supervisor can tell which slot is running what."""
        ...

    @property
    def run_dir(self) -> Path | None:
        """Where a backend may keep its own files (None outside a run directory)."""
        ...

    def should_stop(self) -> bool:
        """True when no new trial should start. Raises KeyboardInterrupt after a Ctrl-C."""
        ...

    def time_left(self) -> float | None: ...

    def reserve_trial(
        self, params: dict[str, Any], distributions: dict[str, Any], attrs: dict[str, Any] | None = None
    ) -> ReservedTrial:
        """Create a RUNNING trial holding ``params`` (and user ``attrs``) in the store; its number is
        assigned atomically."""
        ...

    def run_trial(
        self,
        config: dict[str, Any],
        *,
        number: int,
        report: ReportHook | None = None,
        params: dict[str, Any] | None = None,
        model: Any = None,
        initial_epoch: int = 0,
        epochs: int | None = None,
    ) -> TrialOutcome:
        """Train ``config`` as trial ``number`` (seeded from the number); never raises for a failed config.

        A config over the space's ``max_params`` is not trained: its outcome is SKIPPED (record it like any
        other; a backend whose sampler reads constraints marks it infeasible).
        """
        ...

    def finish_trial(
        self, reserved: ReservedTrial, record: TrialRecord, extra: dict[str, Any] | None = None
    ) -> None:
        """Write a reserved trial's outcome (state, score, per-epoch scores, attributes) to the store."""
        ...

    def trial_finished(self, record: TrialRecord) -> None:
        """Count a recorded trial toward the failure streak and progress."""
        ...

    def feasible_params(self, number: int) -> dict[str, Any] | None:
        """After several configs over ``max_params`` in a row, the searched values of one within it, for
        the backend to propose next (None otherwise, or when none was found: the search then stops)."""
        ...

    def build_model(self, config: dict[str, Any]) -> Any:
        """A fresh compiled Keras model for ``config`` on this search's data (imports TensorFlow)."""
        ...
