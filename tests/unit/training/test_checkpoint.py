"""A fit saved as it goes resumes where it stopped: weights, optimizer, history and early stopping's state."""

from __future__ import annotations

import json
import math
import signal

import pytest

from automl import interrupts
from automl._keras import keras
from automl.interrupts import InterruptGuard
from automl.training import TrialCheckpoint, train
from automl.training._checkpoint import plateau_counters

MLP = {"depth": 1, "units_0": 16, "learning_rate": 0.01, "batch_size": 32, "epochs": 6, "patience": 6}


class _Preempted(Exception):
    """What a killed process looks like to the fit: it never returns."""


class _KillAfter(keras.callbacks.Callback):
    def __init__(self, epoch: int) -> None:
        super().__init__()
        self.epoch = epoch

    def on_epoch_end(self, epoch, logs=None):
        if epoch + 1 == self.epoch:
            raise _Preempted


def test_a_fit_killed_after_epoch_4_of_6_resumes_at_4_with_its_history(cancer, tmp_path):
    checkpoint = TrialCheckpoint(tmp_path / "trial-3", every=0)
    with pytest.raises(_Preempted):
        train(MLP, cancer, seed=7, checkpoint=checkpoint, callbacks=[_KillAfter(4)])
    assert checkpoint.epoch == 4
    saved = checkpoint.state()["monitor"]
    resumed = train(MLP, cancer, seed=7, checkpoint=checkpoint)
    assert resumed.resumed_at == 4
    assert resumed.epochs_run == 6 and len(resumed.history["val_accuracy"]) == 6
    assert resumed.history["loss"][:4] == saved["history"]["loss"]  # the first four epochs, as trained then
    assert resumed.checkpoints_saved == 1  # after epoch 5; none after the last
    # The optimizer went on: a fresh Adam on the saved weights takes larger first steps than the restored
    # one, whose moment estimates are carried over; the resumed epoch-5 loss is no worse than epoch 4's.
    assert resumed.history["loss"][4] <= saved["history"]["loss"][3] * 1.5
    assert 1 <= resumed.best_epoch <= 6 and resumed.best_score == max(resumed.history["val_accuracy"])
    # One save on disk, the last: earlier saves' files are removed as each new one lands.
    files = sorted(p.name for p in checkpoint.directory.iterdir())
    assert len(files) == 3 and files[-1] == "state.json", files
    assert [f.split(".", 1)[1] for f in files[:2]] == ["best.npz", "weights.h5"]
    assert all(f.startswith("epoch-0005-") for f in files[:2])
    checkpoint.delete()
    assert not checkpoint.directory.exists() and checkpoint.epoch == 0


def test_early_stopping_counts_on_across_the_resume(cancer, tmp_path):
    checkpoint = TrialCheckpoint(tmp_path / "t", every=0)
    with pytest.raises(_Preempted):
        train(MLP, cancer, seed=1, checkpoint=checkpoint, callbacks=[_KillAfter(3)])
    state = checkpoint.state()
    state["monitor"]["wait"] = 5  # as if five epochs had passed without improvement
    state["monitor"]["best_score"] = 1.0  # and nothing can beat the best
    (checkpoint.directory / "state.json").write_text(json.dumps(state))
    resumed = train({**MLP, "patience": 6}, cancer, seed=1, checkpoint=checkpoint)
    assert resumed.stopped_by.value == "early_stopping"
    assert resumed.epochs_run == 4  # one more epoch reached the patience of 6


def test_a_stop_request_saves_the_epoch_in_progress_as_not_done(cancer, tmp_path, default_sigint):
    class CtrlC(keras.callbacks.Callback):
        pressed = False

        def on_train_batch_end(self, batch, logs=None):
            # In the third epoch (11 batches each; Keras calls this every few steps, not each).
            if not self.pressed and self.model.optimizer.iterations.numpy() >= 25:
                self.pressed = True
                signal.raise_signal(signal.SIGINT)

    checkpoint = TrialCheckpoint(tmp_path / "t", every=3600)  # no timed save: only the stop's
    with pytest.raises(KeyboardInterrupt), InterruptGuard():
        train(MLP, cancer, seed=2, checkpoint=checkpoint, callbacks=[CtrlC()])
    assert not interrupts.requested()
    assert checkpoint.epoch == 2  # two epochs done; the third, stopped after a batch, is trained again
    resumed = train(MLP, cancer, seed=2, checkpoint=checkpoint)
    assert resumed.resumed_at == 2 and resumed.epochs_run == 6


def test_a_stop_landing_after_an_epochs_end_was_checked_is_still_a_stop(cancer, tmp_path, default_sigint):
    """The request comes while a later callback runs at epoch 2's end: Keras leaves its loop with no
    further epoch end. The fit is stopped with epoch 2 kept, not returned as a finished 2-epoch trial."""

    class CtrlCAtEpochEnd(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch + 1 == 2:
                signal.raise_signal(signal.SIGINT)

    checkpoint = TrialCheckpoint(tmp_path / "t", every=3600)
    with pytest.raises(KeyboardInterrupt), InterruptGuard():
        train(MLP, cancer, seed=2, checkpoint=checkpoint, callbacks=[CtrlCAtEpochEnd()])
    assert checkpoint.epoch == 2 and len(checkpoint.state()["monitor"]["history"]["loss"]) == 2
    resumed = train(MLP, cancer, seed=2, checkpoint=checkpoint)
    assert resumed.resumed_at == 2 and resumed.epochs_run == 6


def test_a_stop_landing_at_the_last_epochs_end_keeps_the_finished_fit(cancer, default_sigint):
    """All epochs ran: the request stops the search after this trial, whose fit is whole."""

    class CtrlCAtTheEnd(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch + 1 == MLP["epochs"]:
                signal.raise_signal(signal.SIGINT)

    with pytest.raises(KeyboardInterrupt), InterruptGuard():  # raised by the guard, after the fit
        result = train(MLP, cancer, seed=2, callbacks=[CtrlCAtTheEnd()])
        assert result.epochs_run == MLP["epochs"] and interrupts.requested()


def test_a_plateau_schedules_counters_are_put_back():
    plateau = keras.callbacks.ReduceLROnPlateau(monitor="val_loss", patience=3)
    plateau.on_train_begin()
    plateau_counters([keras.callbacks.History(), plateau], [{"wait": 2, "best": 0.41, "cooldown_counter": 0}])
    assert (plateau.wait, plateau.best, plateau.cooldown_counter) == (2, 0.41, 0)
    plateau_counters([plateau], [{"wait": 0, "best": None, "cooldown_counter": 1}])
    assert math.isinf(plateau.best) and plateau.cooldown_counter == 1


def test_a_plateau_fit_keeps_its_counters_and_reduced_rate(cancer, tmp_path):
    config = {**MLP, "lr_schedule": "plateau", "plateau_patience": 1, "learning_rate": 0.05}
    checkpoint = TrialCheckpoint(tmp_path / "t", every=0)
    with pytest.raises(_Preempted):
        train(config, cancer, seed=3, checkpoint=checkpoint, callbacks=[_KillAfter(4)])
    state = checkpoint.state()
    assert len(state["plateau"]) == 1 and set(state["plateau"][0]) == {"wait", "best", "cooldown_counter"}
    rate_then = state["monitor"]["history"]["lr"][-1]
    resumed = train(config, cancer, seed=3, checkpoint=checkpoint)
    # The rate the fifth epoch used is the one the optimizer had (a reduction carried over), not lr0's.
    assert resumed.history["lr"][4] <= rate_then + 1e-9
