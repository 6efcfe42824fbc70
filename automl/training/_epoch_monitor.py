"""The first callback of every fit: held-out scores in the epoch's logs, history, NaN guard, time limit,
Ctrl-C requests and early stopping on the objective (best weights kept in memory).

Each epoch the held-out rows are predicted once (:class:`~automl.training._pipeline.HeldOutPredictor`); the
loss and the scores come from those predictions with :mod:`automl.metrics`, in the target's original units.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from automl import interrupts
from automl import metrics as metrics_module
from automl._keras import keras
from automl.outcomes import FailureKind
from automl.tasks import Task
from automl.training._checkpoint import TrialCheckpoint, plateau_counters

if TYPE_CHECKING:
    from automl.datasets import Dataset

__all__ = ["CheckpointSaver", "EpochMonitor"]

_EPSILON = 1e-7  # Keras's probability clipping, so val_loss matches the training loss's formula


def _data_loss(task: Task, y: np.ndarray, output: np.ndarray) -> float:
    """The compiled loss, recomputed in float64 from predictions already made."""
    output = np.asarray(output, dtype=np.float64)
    if task is Task.REGRESSION:
        return float(np.mean((output.reshape(-1) - y.reshape(-1)) ** 2))
    if task is Task.BINARY:
        p = np.clip(output.reshape(-1), _EPSILON, 1 - _EPSILON)
        return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))
    p = np.clip(output / output.sum(axis=1, keepdims=True), _EPSILON, 1 - _EPSILON)
    return float(-np.mean(np.log(p[np.arange(len(y)), y])))


class EpochMonitor(keras.callbacks.Callback):
    """First callback of every fit: validation scores into ``logs``, history, NaN guard, time limit, and
    early stopping on the objective (keeping the best weights in memory)."""

    def __init__(
        self,
        *,
        dataset: Dataset,
        metric: metrics_module.Metric,
        held_out: tuple[Any, Any, Any] | None,
        early_stopping: bool,
        patience: int,
        deadline: float | None,
        initial_epoch: int,
        on_epoch: Callable[[int, float], bool] | None,
    ) -> None:
        super().__init__()
        self.dataset, self.metric, self.task = dataset, metric, dataset.task
        self.default = metrics_module.default_metric(dataset.task).name
        self.held_out = held_out
        self.early_stopping, self.patience, self.deadline = early_stopping, patience, deadline
        self.on_epoch = on_epoch
        self.stopped_by_hook = False
        self.history: dict[str, list[float]] = {}
        self.best_epoch = initial_epoch if held_out is None else 0
        self.best_score = math.nan
        self.best_weights: list[np.ndarray] | None = None
        self.failure: FailureKind | None = None
        self.failure_detail = ""
        self.early_stopped = False
        self.wait = 0  # epochs since the objective last improved
        self.partial = False  # the time limit ended an epoch midway: it is neither scored nor kept
        #: called with the 0-based epoch when a stop request ends it early (a checkpoint keeps the fit)
        self.on_stop: Callable[[int], None] | None = None
        self.epochs_ended = initial_epoch  # epochs whose end this monitor has seen (a resumed fit's too)
        self.ended_by_itself = False  # the last epoch seen was the fit's last: all run, or stopped here

    def state(self) -> dict[str, Any]:
        """The counters a resumed fit needs (the best weights are saved apart)."""
        return {
            "history": self.history,
            "best_epoch": self.best_epoch,
            "best_score": None if math.isnan(self.best_score) else self.best_score,
            "wait": self.wait,
        }

    def restore(self, state: dict[str, Any], best_weights: list[np.ndarray] | None) -> None:
        """Go on from :meth:`state` saved by an earlier fit of the same trial."""
        self.history = {key: [math.nan if v is None else float(v) for v in values]
                        for key, values in state["history"].items()}  # fmt: skip
        self.best_epoch = int(state["best_epoch"])
        self.best_score = math.nan if state["best_score"] is None else float(state["best_score"])
        self.wait = int(state["wait"])
        self.best_weights = best_weights

    def _fail(self, reason: FailureKind, detail: str) -> None:
        self.failure, self.failure_detail = reason, detail
        self.model.stop_training = True

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        interrupts.check()  # Keras resets ``stop_training`` here: a request made just before is caught now

    def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None) -> None:
        # Past the time limit with an epoch already scored, the running epoch ends here rather than at its
        # end: on large data an epoch takes minutes, and waiting for it overran the search's budget (the
        # supervisor then killed the trial, losing every epoch it had). The first epoch always finishes.
        if self.deadline is None or self.failure is not None or not self.history.get("loss"):
            return
        if time.perf_counter() > self.deadline:
            self.partial = True
            kept = len(self.history["loss"])
            self._fail(FailureKind.TIMEOUT, f"time limit reached during epoch {kept + 1}; {kept} epochs kept")

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if interrupts.requested() and self.on_stop is not None:
            self.on_stop(epoch)
        interrupts.check()  # a Ctrl-C ended this epoch early: stop here, where unwinding is safe
        self.epochs_ended = epoch + 1
        if self.partial:
            self.ended_by_itself = True
            return
        logs = logs if logs is not None else {}
        loss = float(logs.get("loss", math.nan))
        train_metric = float(logs.get(self.default, math.nan))
        if self.task is Task.REGRESSION:
            train_metric *= self.dataset.target_std  # RMSE of standardised values → original units
            logs[self.default] = train_metric
        values = {
            "loss": loss,
            self.default: train_metric,
            "lr": float(self.model.optimizer.learning_rate.numpy()),
        }
        if not math.isfinite(loss):
            self._fail(
                FailureKind.NOT_A_NUMBER,
                f"training loss became {loss} in epoch {epoch + 1}: the fit diverged "
                "(a lower learning rate or batch normalisation usually helps)",
            )
        if self.held_out is not None:
            values.update(self._validate(epoch) if self.failure is None else self._no_scores())
            # Written before later callbacks run (pruners read them); withheld from a diverged epoch, so a
            # pruner does not turn the failure into a prune.
            if self.failure is None:
                logs.update({k: v for k, v in values.items() if k.startswith("val_")})
                if self.on_epoch is not None and self.on_epoch(epoch + 1, values[f"val_{self.metric.name}"]):
                    self.stopped_by_hook = True
                    self.model.stop_training = True
        for key, value in values.items():
            self.history.setdefault(key, []).append(value)
        if self.held_out is None and self.failure is None:
            self.best_epoch = epoch + 1
        last = epoch + 1 >= self.params.get("epochs", math.inf)
        # Out of time only matters if the fit was going on: a last or early-stopped epoch finished in time.
        going_on = not self.model.stop_training and not last
        if going_on and self.deadline is not None and time.perf_counter() > self.deadline:
            self._fail(FailureKind.TIMEOUT, f"time limit reached after epoch {epoch + 1}")
        # Not from ``stop_training``: a stop request sets it too, at any moment.
        self.ended_by_itself = self.failure is not None or self.early_stopped or self.stopped_by_hook or last

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        # A request landing after this epoch-end's check (while the held-out rows were scored, the pruner
        # asked or a checkpoint saved) made Keras leave its epoch loop without another epoch end: the fit
        # looks finished after a few epochs. Unless the fit ended here by itself, it is a stop: the epochs
        # done are kept for a resume and the interrupt raised (it was once recorded as a complete trial).
        if not interrupts.requested() or self.ended_by_itself:
            return
        if self.on_stop is not None:
            self.on_stop(self.epochs_ended)
        interrupts.check()

    def _validate(self, epoch: int) -> dict[str, float]:
        predict, y_std, y_orig = self.held_out  # type: ignore[misc]
        output = predict(self.model)
        if not np.all(np.isfinite(output)):
            self._fail(
                FailureKind.NOT_A_NUMBER,
                f"validation predictions are not finite after epoch {epoch + 1}: the fit diverged",
            )
            return self._no_scores()
        penalty = float(sum(float(keras.ops.convert_to_numpy(term)) for term in self.model.losses))
        values = {"val_loss": _data_loss(self.task, y_std, output) + penalty}
        original = self.dataset.to_original_units(output) if self.task is Task.REGRESSION else output
        for name in dict.fromkeys((self.default, self.metric.name)):
            values[f"val_{name}"] = metrics_module.score(name, self.task, y_orig, original)
        score = values[f"val_{self.metric.name}"]
        if self.metric.is_better(score, self.best_score):
            self.best_score, self.best_epoch, self.wait = score, epoch + 1, 0
            if self.early_stopping:
                self.best_weights = self.model.get_weights()
        else:
            self.wait += 1
            if self.early_stopping and self.wait >= self.patience:
                self.early_stopped = True
                self.model.stop_training = True
        return values

    def _no_scores(self) -> dict[str, float]:
        return dict.fromkeys(("val_loss", f"val_{self.default}", f"val_{self.metric.name}"), math.nan)


class CheckpointSaver(keras.callbacks.Callback):
    """Saves at epoch ends (every ``checkpoint.every`` seconds) and on a stop request; puts back the
    schedule's counters a resumed fit resets. Runs after the monitor and the schedule callbacks."""

    def __init__(
        self, checkpoint: TrialCheckpoint, monitor: EpochMonitor, schedules: list[Any], restored: dict | None
    ) -> None:
        super().__init__()
        self.checkpoint, self.monitor, self.schedules = checkpoint, monitor, schedules
        self.restored = restored
        self.last = time.monotonic()
        self.saves = 0
        monitor.on_stop = self.save_unfinished

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        if self.restored is None:
            return
        plateau_counters(self.schedules, self.restored.get("plateau", []))

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        ending = self.model.stop_training or epoch + 1 >= self.params.get("epochs", math.inf)
        if ending or self.monitor.failure is not None:
            return  # the trial ends here: nothing will resume it
        if time.monotonic() - self.last >= self.checkpoint.every:
            self._save(epoch + 1)

    def save_unfinished(self, epoch: int) -> None:
        """A stop was requested during epoch ``epoch`` (0-based): keep the fit for a resume, that epoch
        counted as not done."""
        self._save(epoch)

    def _save(self, done: int) -> None:
        self.checkpoint.save(self.model, done, self.monitor, self.schedules)
        self.saves += 1
        self.last = time.monotonic()
