"""What one fit produced: :class:`TrainResult` and :class:`StopReason`.

Kept apart from the fit loop so that the engine (and its stub trainers in tests) can use the result type
without importing TensorFlow.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from automl.exceptions import TrialFailed
from automl.outcomes import FailureKind, StopReason

__all__ = ["StopReason", "TrainResult"]


@dataclass(frozen=True)
class TrainResult:
    """What one call of :func:`train` produced.

    Attributes:
        model: The trained Keras model. With early stopping (and a held-out set) it holds the weights of
            ``best_epoch``; otherwise those of the last epoch.
        history: Per-epoch lists, one entry per epoch run in this call: ``loss`` (the training loss, in
            standardised units for regression, regularisation included, as Keras reports it),
            ``<task metric>`` (training ``accuracy``, or ``rmse`` in original units), ``val_loss``,
            ``val_<task metric>``, ``val_<metric>`` (the objective, if different) and ``lr`` (the rate used
            during the epoch). ``val_*`` are absent when nothing is held out.
        best_epoch: 1-based epoch (counted from the start of training, ``initial_epoch`` included) with
            the best validation objective; the last epoch when nothing is held out; 0 before any epoch.
        best_score: The validation objective at ``best_epoch`` (NaN when nothing is held out or no epoch
            produced one).
        metric: The objective's name; ``direction`` is ``"maximize"`` or ``"minimize"``.
        epochs_run: Epochs run (``history``'s length): in this call, and before it for a resumed fit.
        stopped_by: A :class:`StopReason`.
        failure: ``None``, or a :class:`~automl.outcomes.FailureKind` (``NOT_A_NUMBER``, ``OUT_OF_MEMORY``,
            ``TIMEOUT``); ``failure_detail`` says more.
        fit_seconds: Wall time of the call: model building, fitting, validation and any retry.
        n_params: Weights in the model.
        effective_batch_size: The batch size the final attempt used (halved after running out of memory).
        seed: The seed the fit used.
        initial_epoch: The epoch this call started from (Hyperband rounds).
        resumed_at: The epoch a fit resumed from its checkpoint (0: from the start); ``history`` and
            ``epochs_run`` then count the epochs trained before it too.
        checkpoints_saved: How many times this call saved the fit's state.
    """

    model: Any
    history: dict[str, list[float]]
    best_epoch: int
    best_score: float
    metric: str
    direction: Literal["maximize", "minimize"]
    epochs_run: int
    stopped_by: StopReason
    failure: FailureKind | None
    failure_detail: str
    fit_seconds: float
    n_params: int
    effective_batch_size: int
    seed: int
    initial_epoch: int = 0
    resumed_at: int = 0
    checkpoints_saved: int = 0

    @property
    def ok(self) -> bool:
        return self.failure is None

    def raise_for_failure(self) -> None:
        """Raise :class:`~automl.exceptions.TrialFailed` if the fit failed (for callers that stop on it)."""
        if self.failure is not None:
            raise TrialFailed(self.failure, self.failure_detail)
