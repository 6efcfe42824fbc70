"""Failures are results, not exceptions: diverging, running out of memory, running out of time."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest

from automl._keras import keras, out_of_memory_error
from automl.exceptions import TrialFailed
from automl.training import train

MLP = {"depth": 1, "units_0": 16, "learning_rate": 0.01, "batch_size": 32, "epochs": 3, "patience": 5}


class Poison(keras.callbacks.Callback):
    """Put NaN into the weights as the second epoch begins."""

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == 1:
            self.model.set_weights([np.full_like(w, np.nan) for w in self.model.get_weights()])


def test_nan_loss_is_recorded_with_history_kept(cancer) -> None:
    later_logs: list[dict] = []

    class Spy(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            later_logs.append(dict(logs))

    result = train(MLP, cancer, callbacks=[Poison(), Spy()])
    assert (result.failure, result.stopped_by, result.epochs_run) == ("nan_loss", "failure", 2)
    assert "diverged" in result.failure_detail and not result.ok
    assert math.isnan(result.history["loss"][1]) and math.isnan(result.history["val_accuracy"][1])
    assert result.best_epoch == 1 and result.best_score == result.history["val_accuracy"][0]
    assert all(np.isfinite(w).all() for w in result.model.get_weights())  # the best epoch's weights
    assert "val_loss" in later_logs[0] and "val_loss" not in later_logs[1]  # pruners never see the NaN
    with pytest.raises(TrialFailed, match="nan_loss"):
        result.raise_for_failure()


def test_exploding_learning_rate_fails_as_nan_loss(diabetes) -> None:
    config = {**MLP, "optimizer": "sgd", "learning_rate": 1e6}
    result = train(config, diabetes)
    assert result.failure == "nan_loss" and result.stopped_by == "failure"


class OutOfMemory(keras.callbacks.Callback):
    """Raise the backend's own out-of-memory error at the first batch of the first ``times`` fits."""

    def __init__(self, times: int) -> None:
        super().__init__()
        self.times = times
        self.batch_sizes: list[int] = []

    def on_train_batch_begin(self, batch, logs=None):
        if batch == 0 and self.times > 0:
            self.times -= 1
            raise out_of_memory_error()


def test_out_of_memory_retries_once_at_half_the_batch(cancer) -> None:
    result = train(MLP, cancer, callbacks=[OutOfMemory(times=1)])
    assert result.ok and result.effective_batch_size == 16 and result.epochs_run == 3


def test_out_of_memory_twice_is_a_failure(cancer) -> None:
    result = train(MLP, cancer, callbacks=[OutOfMemory(times=2)])
    assert result.failure == "out_of_memory" and result.stopped_by == "failure"
    assert result.effective_batch_size == 16 and math.isnan(result.best_score) and result.epochs_run == 0


def test_out_of_memory_on_a_given_model_restarts_from_its_weights(cancer) -> None:
    first = train(MLP, cancer, epochs=1)
    before = [w.copy() for w in first.model.get_weights()]
    calls: list[list[np.ndarray]] = []

    class Record(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            calls.append(self.model.get_weights())

    result = train(
        MLP, cancer, model=first.model, initial_epoch=1, epochs=2, callbacks=[Record(), OutOfMemory(times=1)]
    )
    assert result.ok and result.effective_batch_size == 16 and len(calls) == 2
    assert all(np.array_equal(a, b) for a, b in zip(calls[1], before, strict=True))


def test_past_the_time_limit_an_epoch_is_cut_short_and_dropped(cancer, monkeypatch) -> None:
    """Once an epoch is scored, the limit ends the next one at a batch: the epochs done are kept."""
    skipped = {"seconds": 0.0}
    clock = time.perf_counter
    monkeypatch.setattr(time, "perf_counter", lambda: clock() + skipped["seconds"])

    class LimitPassesAfterTheFirstEpoch(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 0:
                skipped["seconds"] = 3600.0  # as if an hour passed here, after the first epoch was scored

    result = train(
        {**MLP, "epochs": 4}, cancer, time_limit=600.0, callbacks=[LimitPassesAfterTheFirstEpoch()]
    )
    assert (result.failure, result.stopped_by, result.epochs_run) == ("timeout", "failure", 1)
    assert "during epoch 2; 1 epochs kept" in result.failure_detail
    assert len(result.history["val_loss"]) == 1 and result.best_epoch == 1


def test_time_limit_stops_after_the_epoch_that_passes_it(cancer) -> None:
    result = train(MLP, cancer, time_limit=0.0)
    assert (result.failure, result.stopped_by, result.epochs_run) == ("timeout", "failure", 1)
    assert result.best_epoch == 1 and math.isfinite(result.best_score)
    finished = train(MLP, cancer, time_limit=0.0, epochs=1)  # the last epoch ended: nothing was cut short
    assert finished.ok and finished.stopped_by == "max_epochs"
