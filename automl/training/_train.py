"""``train(config, dataset)``: the one fit loop for search trials, Hyperband rounds and retraining.

Three uses, one code path (retraining replays, it does not reimplement):

* a search trial: a fresh model from ``config``, fit on the training split, validated on the validation split;
* a KerasTuner Hyperband round: ``model=`` an already-built model, trained from ``initial_epoch`` to
  ``epochs``, with no ``clear_session`` (the model lives in the current session);
* retraining the winner: ``fit_on="train_val"`` fits on training + validation rows, minus a seeded
  ``validation_fraction`` slice held out for early stopping (or on every row, with
  ``early_stopping=False`` and a fixed number of epochs).

Each epoch the held-out rows are predicted once; the loss and the scores come from those predictions with
:mod:`automl.metrics`, in the target's original units, and are written into the epoch's Keras ``logs``
before any other callback runs, so a user callback (an Optuna pruning callback) reads them there.
What fails is reported, not raised: a non-finite loss, running out of memory twice, or the time limit
give a :class:`TrainResult` with ``failure`` set. Exceptions from user callbacks (Optuna's ``TrialPruned``)
propagate unchanged.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from automl import interrupts
from automl import metrics as metrics_module
from automl._keras import clear_session, is_out_of_memory, set_seed
from automl.exceptions import ConfigError, UserError
from automl.model import DEFAULT_STEPS_PER_EXECUTION, build_model, integer, plan_for, schedule_callbacks
from automl.outcomes import FailureKind
from automl.tasks import Task
from automl.training._checkpoint import TrialCheckpoint
from automl.training._epoch_monitor import CheckpointSaver, EpochMonitor
from automl.training._pipeline import HeldOutPredictor, fit_data
from automl.training._result import StopReason, TrainResult

if TYPE_CHECKING:
    from automl.datasets import Dataset

__all__ = [
    "PREDICT_BYTES",
    "StopReason",
    "TrainResult",
    "activations_per_row",
    "predict",
    "rows_per_chunk",
    "train",
]


#: bytes the layer outputs of one chunk of predicted rows may take (float32). Predicting 10,000 images with
#: a two-block ``cnn`` of 64 and 128 filters (479,274 values a row) in chunks of 4,096 raised the process's
#: peak RSS from 2.1 to 8.9 GB, in chunks of 1,024 to 3.1 GB; at this budget a chunk is 140 rows (134 rows
#: kept the peak at 1.4 GB and took 5.2 s against 4.5 s in 1,024-row chunks, on 2 cores).
PREDICT_BYTES = 256 * 2**20


def activations_per_row(model: Any) -> int:
    """Values each input row makes in ``model``'s layer outputs, nested models (an ensemble's members, a
    bag's folds) included: what a forward pass holds per row, as
    :attr:`automl.model.Architecture.activations_per_example` counts it for a config."""
    total = 0
    for layer in getattr(model, "layers", ()):
        if getattr(layer, "layers", None):
            total += activations_per_row(layer)
            continue
        try:
            total += math.prod(int(d) for d in layer.output.shape[1:])
        except (AttributeError, TypeError, ValueError):  # a layer without one symbolic output
            continue
    return total


def rows_per_chunk(values_per_row: int, *, most: int) -> int:
    """Rows predicted at once: as many as :data:`PREDICT_BYTES` of layer outputs hold, at most ``most``."""
    return max(1, min(most, PREDICT_BYTES // (4 * max(1, values_per_row))))


def predict(model: Any, x: np.ndarray, *, chunk: int | None = None) -> np.ndarray:
    """The model's outputs on ``x`` as a NumPy array (probabilities, or standardised regression values).

    ``chunk`` rows are predicted at once (default: as many as :func:`rows_per_chunk` allows for the model's
    layer outputs, at most 4,096: a wide convolutional network's outputs for 4,096 images take gigabytes).
    """
    if chunk is None:
        chunk = rows_per_chunk(activations_per_row(model), most=4096)
    return HeldOutPredictor(np.asarray(x), chunk)(model)  # each chunk cast as it is predicted


def _class_weights(value: Any, task: Task, y: np.ndarray, n_classes: int | None) -> dict[int, float] | None:
    if value is None:
        return None
    if not task.is_classification:
        raise UserError("class_weight applies to classification only; remove it for a regression dataset")
    if isinstance(value, Mapping):
        return {int(k): float(v) for k, v in value.items()}
    if value != "balanced":
        raise UserError(f"class_weight must be 'balanced' or a dict {{class: weight}}, got {value!r}")
    k = int(n_classes or (int(y.max()) + 1))
    counts = np.bincount(y.astype(np.int64), minlength=k)
    # n / (k · count), as scikit-learn's "balanced"; a class absent from the fit rows keeps weight 1.
    return {c: (len(y) / (k * counts[c]) if counts[c] else 1.0) for c in range(k)}


def _held_out_chunk(
    config: Mapping[str, Any], dataset: Dataset, model: Any, family: str | None, batch_size: int
) -> int:
    """Held-out rows predicted at once each epoch: four batches (at least 1,024 rows), fewer where the
    model's layer outputs would pass :data:`PREDICT_BYTES`."""
    most = max(4 * batch_size, 1024)
    try:
        values = (
            activations_per_row(model)
            if model is not None
            else plan_for(config, dataset, family).activations_per_example
        )
    except ConfigError:  # build_model says why, below
        return most
    return rows_per_chunk(values, most=most)


def _split(
    dataset: Dataset, fit_on: str, fraction: float, early_stopping: bool, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray | None]:
    if fit_on == "train":
        return dataset.x_train, dataset.y_train, dataset.x_val, dataset.y_val
    if fit_on != "train_val":
        raise UserError(f"fit_on must be 'train' or 'train_val', got {fit_on!r}")
    x, y = dataset.train_val()
    if not early_stopping:
        return x, y, None, None
    if not 0.0 < fraction < 1.0:
        raise UserError(f"validation_fraction must be in (0, 1), got {fraction}")
    order = np.random.default_rng(seed).permutation(len(x))
    n_hold = min(len(x) - 1, max(1, round(fraction * len(x))))
    hold, rest = np.sort(order[:n_hold]), np.sort(order[n_hold:])
    return x[rest], y[rest], x[hold], y[hold]


def train(
    config: Mapping[str, Any],
    dataset: Dataset,
    *,
    epochs: int | None = None,
    callbacks: Sequence[Any] = (),
    seed: int = 0,
    model: Any = None,
    initial_epoch: int = 0,
    metric: str | None = None,
    fit_on: Literal["train", "train_val"] = "train",
    validation_fraction: float = 0.1,
    class_weight: str | Mapping[int, float] | None = None,
    early_stopping: bool = True,
    patience: int | None = None,
    time_limit: float | None = None,
    on_epoch: Callable[[int, float], bool] | None = None,
    family: str | None = None,
    verbose: int = 0,
    steps_per_execution: int = DEFAULT_STEPS_PER_EXECUTION,
    checkpoint: TrialCheckpoint | None = None,
) -> TrainResult:
    """Fit ``config`` on ``dataset`` and report what happened (see the module doc for the three uses).

    Args:
        epochs: Train until this epoch (absolute, like Keras). Default: the config's ``epochs`` (10 if
            absent).
            Schedules always span the config's ``epochs`` budget, whatever ``epochs`` says.
        callbacks: Keras callbacks run after the built-in ones; their exceptions propagate.
        seed: Seeds Python, NumPy and Keras (weights, dropout, shuffling) and the ``train_val`` hold-out.
        model: A compiled model to keep training (no rebuild, no ``clear_session``); else a fresh one is
            built from ``config`` after ``clear_session()``.
        metric: Objective for early stopping and ``best_score`` (default: the task's, accuracy / rmse).
        class_weight: ``"balanced"``, a dict, or None; default the config's ``class_weight`` key.
        patience: Epochs without improvement before stopping; default the config's ``patience`` (10).
        time_limit: Seconds from the call; once past it, the fit stops at the next batch (the epoch cut
            short is dropped) or, in the first epoch, at that epoch's end, with failure ``"timeout"``
            (none if the limit passed in the last epoch's end anyway).
        on_epoch: Called after each validated epoch with (1-based epoch, validation objective); returning
            True stops the fit (``stopped_by="callback"``): a pruner's hook without writing a callback.
        family: ``"mlp"`` / ``"cnn"`` for :func:`~automl.model.build_model` (inferred when None).
        steps_per_execution: For a model built here (a given ``model`` keeps its compiled value).
        checkpoint: Where the fit's state is saved as it goes (:class:`TrialCheckpoint`), and resumed from:
            a fit whose checkpoint holds a save starts at the saved epoch with the saved weights, optimizer
            state, history and early-stopping counters (for a model built here only).

    Raises:
        UserError: bad arguments (unknown metric, ``fit_on``, class weights on regression, …), before any fit.
        ConfigError: a configuration the builders reject.
        Exception: whatever a user callback raises (e.g. ``optuna.TrialPruned``).
    """
    started = time.perf_counter()
    objective = metrics_module.get_metric(metric, dataset.task)
    budget = integer(config, "epochs", 10, low=1)
    epochs = budget if epochs is None else epochs
    if epochs <= initial_epoch:
        raise UserError(f"epochs ({epochs}) must exceed initial_epoch ({initial_epoch})")
    patience = patience if patience is not None else integer(config, "patience", 10, low=1)
    batch_size = integer(config, "batch_size", 32, low=1)
    x_fit, y_fit, x_held, y_held = _split(dataset, fit_on, validation_fraction, early_stopping, seed)
    weights = _class_weights(
        class_weight if class_weight is not None else config.get("class_weight"),
        dataset.task,
        y_fit,
        dataset.n_classes,
    )
    held_out = None
    if x_held is not None and y_held is not None:
        chunk = min(len(x_held), _held_out_chunk(config, dataset, model, family, batch_size))
        held_out = (HeldOutPredictor(x_held, chunk), y_held, dataset.to_original_units(y_held))
    deadline = started + time_limit if time_limit is not None else None
    given = model
    snapshot = given.get_weights() if given is not None else None

    resumed_at = 0
    saver: CheckpointSaver | None = None
    for attempt in range(2):
        monitor = EpochMonitor(
            dataset=dataset,
            metric=objective,
            held_out=held_out,
            early_stopping=early_stopping,
            patience=patience,
            deadline=deadline,
            initial_epoch=initial_epoch,
            on_epoch=on_epoch,
        )
        try:
            if given is None:
                clear_session()
                set_seed(seed)
                model = build_model(config, dataset, family=family, steps_per_execution=steps_per_execution)
            else:
                if attempt:
                    given.set_weights(snapshot)
                set_seed(seed)
            monitor_name = "val_loss" if held_out is not None else "loss"
            schedules = schedule_callbacks(config, budget, monitor=monitor_name)
            start = initial_epoch
            if checkpoint is not None and given is None:
                restored = checkpoint.restore(model, monitor)
                resumed_at = start = 0 if restored is None else min(int(restored["epoch"]), epochs - 1)
                saver = CheckpointSaver(checkpoint, monitor, schedules, restored)
                schedules = [*schedules, saver]
            with interrupts.watch_fit(model):
                model.fit(
                    fit_data(x_fit, y_fit, batch_size, seed),
                    epochs=epochs,
                    initial_epoch=start,
                    callbacks=[monitor, *schedules, *callbacks],
                    class_weight=weights,
                    verbose=verbose,
                    shuffle=False,  # the pipeline shuffles, seeded
                )
            break
        except Exception as exc:
            if not is_out_of_memory(exc):
                raise
            if attempt == 0:
                batch_size = max(1, batch_size // 2)
                continue
            monitor.failure = FailureKind.OUT_OF_MEMORY
            monitor.failure_detail = (
                f"out of memory again at batch size {batch_size} (halved once): "
                "use a smaller model or batch size"
            )

    if monitor.best_weights is not None:
        model.set_weights(monitor.best_weights)
    epochs_run = len(monitor.history.get("loss", []))
    if monitor.failure is not None:
        stopped_by = StopReason.FAILURE
    elif monitor.stopped_by_hook:
        stopped_by = StopReason.CALLBACK
    elif monitor.early_stopped:
        stopped_by = StopReason.EARLY_STOPPING
    elif initial_epoch + epochs_run < epochs:
        stopped_by = StopReason.CALLBACK
    else:
        stopped_by = StopReason.MAX_EPOCHS
    return TrainResult(
        model=model,
        history=monitor.history,
        best_epoch=monitor.best_epoch,
        best_score=monitor.best_score,
        metric=objective.name,
        direction=objective.direction,
        epochs_run=epochs_run,
        stopped_by=stopped_by,
        failure=monitor.failure,
        failure_detail=monitor.failure_detail,
        fit_seconds=time.perf_counter() - started,
        n_params=int(model.count_params()) if model is not None else 0,
        effective_batch_size=batch_size,
        seed=seed,
        initial_epoch=initial_epoch,
        resumed_at=resumed_at,
        checkpoints_saved=0 if saver is None else saver.saves,
    )
