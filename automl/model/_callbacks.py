"""Keras callbacks that apply a configuration's learning-rate schedule during ``fit``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from automl._keras import keras
from automl.model._config import integer, number
from automl.model._schedules import PLATEAU_FACTOR, PLATEAU_MIN_FRACTION, learning_rate_at, schedule_name

__all__ = ["EpochLearningRate", "schedule_callbacks"]


class EpochLearningRate(keras.callbacks.Callback):
    """Set the optimizer's rate to ``learning_rate_at(config, epoch, total_epochs)`` as each epoch begins.

    Assigning a float to the optimizer's rate variable (instead of compiling a Keras schedule object into
    it) keeps a saved model loadable with ``keras.models.load_model`` and no custom objects.
    """

    def __init__(self, config: Mapping[str, Any], total_epochs: int) -> None:
        super().__init__()
        self.config = dict(config)
        self.total_epochs = total_epochs

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self.model.optimizer.learning_rate = learning_rate_at(self.config, epoch, self.total_epochs)


def schedule_callbacks(
    config: Mapping[str, Any], total_epochs: int, *, monitor: str = "val_loss"
) -> list[keras.callbacks.Callback]:
    """The callbacks that realise ``config``'s schedule over a ``total_epochs`` budget.

    ``plateau`` halves the rate after ``plateau_patience`` [3] epochs without a lower ``monitor`` value
    (never below ``learning_rate / 1000``); it must run after the callback that writes ``val_loss`` into
    the epoch logs (``monitor="loss"`` when nothing is held out). Every other schedule is an
    :class:`EpochLearningRate`.
    """
    if schedule_name(config) == "plateau":
        lr0 = number(config, "learning_rate", 1e-3, low=0.0)
        return [
            keras.callbacks.ReduceLROnPlateau(
                monitor=monitor,
                factor=PLATEAU_FACTOR,
                patience=integer(config, "plateau_patience", 3, low=1),
                min_lr=lr0 * PLATEAU_MIN_FRACTION,
                verbose=0,
            )
        ]
    return [EpochLearningRate(config, total_epochs)]
