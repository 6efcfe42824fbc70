"""A trial's training state on disk, so a trial whose process dies continues instead of restarting.

Keras's ``BackupAndRestore`` keeps the weights, the optimizer's state and the epoch. A trial needs more to
go on as if never stopped: early stopping's best score, its patience count and the best weights so far,
the history its record and pruner read, and a ``plateau`` schedule's own counters. :class:`TrialCheckpoint`
keeps all of it in one folder per trial:

* ``epoch-NNNN.weights.h5``: the model's weights with its optimizer's (Keras writes both; the current
  learning rate is one of the optimizer's variables);
* ``epoch-NNNN.best.npz``: the best weights so far (when early stopping keeps them);
* ``state.json``, written last and atomically: the epoch to start from, which files hold it, and the
  monitor's and schedule's counters. A process killed mid-save leaves the previous state whole.

A save happens at an epoch's end once ``every`` seconds have passed since the last one (``0``: every
epoch), and when a stop is requested (Ctrl-C, SIGTERM): Keras ends the epoch after its current batch, and
that partly trained epoch is saved as not done, so the resumed fit trains it again from those weights.
The resumed fit shuffles with the same seed from its first epoch, so an epoch after the resume may see
another order of rows than the uninterrupted fit would have.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from automl.training._epoch_monitor import EpochMonitor

__all__ = ["CHECKPOINT_EVERY_SECONDS", "TrialCheckpoint", "plateau_counters"]

#: seconds between two saves of a trial's state by default. A save of the cnn space's default model on the
#: 60k Fashion-shaped set took 24 ms against a 16.5 s epoch on 2 CPU cores (benchmarks/checkpoint_cost.py):
#: every 30 s it costs 0.1 % of the time, under 1 % for a model whose save is ten times slower, and a kill
#: loses at most 30 s of training.
CHECKPOINT_EVERY_SECONDS = 30.0
_STATE = "state.json"
# ReduceLROnPlateau's counters (it resets them at the start of every fit).
_PLATEAU_FIELDS = ("wait", "best", "cooldown_counter")


class TrialCheckpoint:
    """The saved training state of one trial, in ``directory`` (created on the first save).

    Imports no TensorFlow: the model it saves and restores brings its own.
    """

    def __init__(self, directory: str | Path, *, every: float = CHECKPOINT_EVERY_SECONDS) -> None:
        self.directory = Path(directory)
        self.every = float(every)

    def state(self) -> dict[str, Any] | None:
        """The last complete save (see the module doc), or None."""
        try:
            state = json.loads((self.directory / _STATE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return state if (self.directory / state["weights"]).exists() else None

    @property
    def epoch(self) -> int:
        """The epoch a resumed fit starts from (0: nothing saved)."""
        state = self.state()
        return 0 if state is None else int(state["epoch"])

    def save(self, model: Any, epoch: int, monitor: EpochMonitor, schedules: list[Any]) -> None:
        """Save the state of a fit whose first ``epoch`` epochs are done."""
        self.directory.mkdir(parents=True, exist_ok=True)
        stem = f"epoch-{epoch:04d}-{os.getpid()}"
        weights = f"{stem}.weights.h5"
        model.save_weights(self.directory / weights, overwrite=True)
        best = None
        if monitor.best_weights is not None:
            best = f"{stem}.best.npz"
            np.savez(self.directory / best, *monitor.best_weights)
        state = {
            "epoch": epoch,
            "weights": weights,
            "best": best,
            "monitor": monitor.state(),
            "plateau": [
                {name: _plain(getattr(s, name)) for name in _PLATEAU_FIELDS} for s in plateaus(schedules)
            ],
            "saved_at": time.time(),
        }
        partial = self.directory / f"{_STATE}.{os.getpid()}.tmp"
        partial.write_text(json.dumps(state), encoding="utf-8")
        os.replace(partial, self.directory / _STATE)
        for old in self.directory.iterdir():  # earlier saves (of this or a dead process)
            if old.name.startswith("epoch-") and old.name not in (weights, best):
                old.unlink(missing_ok=True)

    def restore(self, model: Any, monitor: EpochMonitor) -> dict[str, Any] | None:
        """Load the saved weights, optimizer state and monitor counters into a freshly built ``model``;
        returns the state (its ``epoch`` is where the fit goes on), or None when nothing was saved."""
        state = self.state()
        if state is None:
            return None
        if model.optimizer is not None and not model.optimizer.built:
            model.optimizer.build(model.trainable_variables)
        model.load_weights(self.directory / state["weights"])
        best = None
        if state.get("best"):
            with np.load(self.directory / state["best"]) as saved:
                best = [saved[f"arr_{i}"] for i in range(len(saved.files))]
        monitor.restore(state["monitor"], best)
        return state

    def delete(self) -> None:
        """Remove the trial's folder: its trial ended, nothing will resume it."""
        if not self.directory.is_dir():
            return
        for path in self.directory.iterdir():
            path.unlink(missing_ok=True)
        with contextlib.suppress(OSError):  # another process wrote into it meanwhile
            self.directory.rmdir()
        with contextlib.suppress(OSError):  # the study's folder, once its last trial's is gone
            self.directory.parent.rmdir()


def plateaus(schedules: list[Any]) -> list[Any]:
    """The ``plateau`` schedules (Keras's ReduceLROnPlateau) among a fit's schedule callbacks."""
    return [s for s in schedules if type(s).__name__ == "ReduceLROnPlateau"]


def plateau_counters(schedules: list[Any], saved: list[dict[str, Any]]) -> None:
    """Put back the counters :meth:`TrialCheckpoint.save` kept (a fit resets them when it starts)."""
    for schedule, counters in zip(plateaus(schedules), saved, strict=False):
        for name, value in counters.items():
            setattr(schedule, name, math.inf if value is None and name == "best" else value)


def _plain(value: Any) -> Any:
    """A JSON value for a callback counter (NumPy scalars, infinities as None)."""
    value = value.item() if hasattr(value, "item") else value
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
