"""Ctrl-C during a search is a request: the fit stops after its current step and unwinds at a safe point."""

from __future__ import annotations

import signal

import pytest

from automl import interrupts
from automl._keras import keras
from automl.interrupts import InterruptGuard
from automl.training import train

MLP = {"depth": 1, "units_0": 8, "learning_rate": 0.01, "batch_size": 8, "epochs": 4, "patience": 5}


def test_first_ctrl_c_is_a_request_and_the_second_raises_at_once(default_sigint) -> None:
    with pytest.raises(KeyboardInterrupt), InterruptGuard():
        signal.raise_signal(signal.SIGINT)
        assert interrupts.requested()  # reached: the first press raised nothing
        with pytest.raises(KeyboardInterrupt):
            interrupts.check()
        signal.raise_signal(signal.SIGINT)
        pytest.fail("the second Ctrl-C must raise at once")
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    assert not interrupts.requested()


def test_a_request_nobody_checked_is_raised_when_the_outer_guard_exits(default_sigint) -> None:
    with pytest.raises(KeyboardInterrupt), InterruptGuard():
        with InterruptGuard():
            pass
        signal.raise_signal(signal.SIGINT)
        with InterruptGuard():  # a nested guard keeps the request for the next check
            assert interrupts.requested()
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_an_ignored_sigint_stays_ignored() -> None:
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        with InterruptGuard():
            assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, previous)


def test_ctrl_c_during_a_fit_ends_the_epoch_after_the_current_step(cancer, default_sigint) -> None:
    batches: list[tuple[int, int]] = []
    pressed: list[bool] = []

    class PressCtrlC(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch

        def on_train_batch_end(self, batch, logs=None):
            batches.append((self.epoch, batch))
            if self.epoch == 1 and batch == 2:
                signal.raise_signal(signal.SIGINT)
                pressed.append(interrupts.requested())  # the press raised nothing inside Keras

    steps_per_epoch = -(-len(cancer.y_train) // MLP["batch_size"])
    with pytest.raises(KeyboardInterrupt), InterruptGuard():
        train(MLP, cancer, callbacks=[PressCtrlC()], steps_per_execution=1)
    # No step ran after the request, and no third epoch.
    assert pressed == [True] and batches[-1] == (1, 2) and steps_per_epoch > 3
    assert not interrupts.requested()
