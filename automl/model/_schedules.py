"""Learning-rate schedules as a pure function of the epoch (no Keras here: plot or test them anywhere).

``learning_rate_at(config, epoch, total_epochs)`` is the rate used *throughout* epoch ``epoch``
(0-based, as Keras counts). ``total_epochs`` is the budget (the config's ``epochs``), not the number of
epochs a particular call happens to run: a trial stopped after 3 epochs and a Hyperband round resumed at
epoch 30 follow the same curve. With ``lr0 = config["learning_rate"]`` and ``p = epoch / total_epochs``:

==================  ======================================================================================
constant            ``lr0``
step                ``lr0 · decay_rate ** floor(epoch / decay_every)``
piecewise           ``lr0``, then ``× piecewise_drop`` from ``p >= 0.5`` and again from ``p >= 0.75``
exponential         ``lr0 · decay_rate ** p`` (smooth; ``lr0 · decay_rate`` at the end of the budget)
cosine              ``lr0 · (m + (1 - m) · (1 + cos(π p)) / 2)`` with ``m = cosine_min_fraction``
warmup_hold_decay   ``lr0 · (epoch + 1) / (warmup_epochs + 1)`` during warm-up (so the first epoch already
                    learns), ``lr0`` until ``p >= 0.5`` (or the warm-up's end, if later), then
                    ``lr0 · decay_rate ** q`` with ``q`` going linearly from 0 there to 1 at the budget's end.
                    With ``hold_epochs`` given, the hold lasts that many epochs after the warm-up and the
                    rate is then multiplied by ``decay_rate`` every epoch (the classic "keep it, then ×0.95
                    per epoch"): ``lr0 · decay_rate ** (epoch - warmup_epochs - hold_epochs + 1)``
plateau             ``lr0`` here: the rate is halved by a validation-loss plateau callback, not by the epoch
==================  ======================================================================================

Defaults of absent keys: ``decay_rate`` 0.5, ``decay_every`` 10, ``piecewise_drop`` 0.1,
``cosine_min_fraction`` 0, ``warmup_epochs`` 2 (the shipped spaces' defaults); no ``hold_epochs``
(the budget-relative decay).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from automl.model._config import SCHEDULES, choice, integer, number

__all__ = ["PLATEAU_FACTOR", "PLATEAU_MIN_FRACTION", "learning_rate_at", "schedule_name"]

PLATEAU_FACTOR = 0.5  # each plateau halves the rate
PLATEAU_MIN_FRACTION = 1e-3  # and never below lr0 / 1000


def schedule_name(config: Mapping[str, Any]) -> str:
    """The configured schedule (``constant`` when absent).

    Raises:
        ConfigError: an unknown schedule name.
    """
    return str(choice(config, "lr_schedule", "constant", SCHEDULES))


def learning_rate_at(config: Mapping[str, Any], epoch: int, total_epochs: int) -> float:
    """The learning rate for 0-based ``epoch`` of a ``total_epochs`` budget under ``config``'s schedule.

    Epochs past the budget keep the end-of-budget value. Raises :class:`~automl.exceptions.ConfigError`
    for an unknown schedule or an out-of-range schedule parameter, and :class:`ValueError` for a negative
    epoch or a budget below 1.
    """
    if epoch < 0 or total_epochs < 1:
        raise ValueError(f"need epoch >= 0 and total_epochs >= 1, got ({epoch=}, {total_epochs=})")
    lr0 = number(config, "learning_rate", 1e-3, low=0.0)
    name = schedule_name(config)
    epoch = min(epoch, total_epochs)
    progress = epoch / total_epochs

    if name in ("constant", "plateau"):
        return lr0
    if name == "step":
        rate = number(config, "decay_rate", 0.5, low=0.0, high=1.0)
        every = integer(config, "decay_every", 10, low=1)
        return lr0 * rate ** (epoch // every)
    if name == "piecewise":
        drop = number(config, "piecewise_drop", 0.1, low=0.0, high=1.0)
        return lr0 * drop ** ((progress >= 0.5) + (progress >= 0.75))
    if name == "exponential":
        rate = number(config, "decay_rate", 0.5, low=0.0, high=1.0)
        return lr0 * rate**progress
    if name == "cosine":
        floor = number(config, "cosine_min_fraction", 0.0, low=0.0, high=1.0)
        return lr0 * (floor + (1.0 - floor) * 0.5 * (1.0 + math.cos(math.pi * progress)))
    # warmup_hold_decay
    rate = number(config, "decay_rate", 0.5, low=0.0, high=1.0)
    warmup = integer(config, "warmup_epochs", 2, low=0)
    if epoch < warmup:
        return lr0 * (epoch + 1) / (warmup + 1)
    if config.get("hold_epochs") is not None:
        hold_end = warmup + integer(config, "hold_epochs", 0, low=0)
        return lr0 * rate ** max(0, epoch - hold_end + 1)
    decay_start = max(float(warmup), 0.5 * total_epochs)
    if epoch < decay_start or decay_start >= total_epochs:
        return lr0
    return lr0 * rate ** ((epoch - decay_start) / (total_epochs - decay_start))
