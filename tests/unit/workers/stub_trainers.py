"""Stand-ins for :func:`automl.train` that worker processes load by name (``WorkerSpec.trainer``)."""

from __future__ import annotations

from automl.testing import StubTrainer


def two_second_trials() -> StubTrainer:
    """Four epochs of half a second each: long enough to be caught mid-trial."""
    return StubTrainer(seconds_per_epoch=0.5, default_epochs=4)


class _ByTrial(StubTrainer):
    """Scores by trial number (a trial's seed is its number under seed 0): better up to trial 2, flat on."""

    def __call__(self, config, dataset, **kwargs):  # type: ignore[no-untyped-def]
        number = int(kwargs.get("seed", 0))
        self.score = lambda _config, _epoch: 0.5 + 0.05 * min(number, 2)
        return super().__call__(config, dataset, **kwargs)


def plateau_after_two() -> StubTrainer:
    """Tenth-of-a-second trials whose score stops improving after trial 2."""
    return _ByTrial(seconds_per_epoch=0.05, default_epochs=2)
