"""Stand-ins for :func:`automl.train` that worker processes load by name (``WorkerSpec.trainer``)."""

from __future__ import annotations

from automl.testing import StubTrainer


def two_second_trials() -> StubTrainer:
    """Four epochs of half a second each: long enough to be caught mid-trial."""
    return StubTrainer(seconds_per_epoch=0.5, default_epochs=4)
