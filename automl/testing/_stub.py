"""A trainer that needs no TensorFlow: the engine's rules (budgets, failures, pruning, resume, numbering)
tested in milliseconds, with the real engine, the real backends and a real Optuna storage around it."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from automl import interrupts
from automl.outcomes import FailureKind, StopReason
from automl.training import TrainResult

__all__ = ["StubTrainer", "stub_score"]

#: a validation score from a config and a 1-based epoch.
ScoreFn = Callable[[dict[str, Any], int], float]


def stub_score(config: dict[str, Any], epoch: int) -> float:
    """``dropout · (1 − 0.5^epoch)``: the config's ``dropout`` stands for its quality, reached gradually.

    Any searched number would do; dropout is one every model family declares.
    """
    return float(config.get("dropout", 0.5)) * (1.0 - 0.5**epoch)


@dataclass
class StubTrainer:
    """Stands in for :func:`automl.train` (pass it as ``trainer=``): same arguments, same result type.

    Args:
        score: Validation score after each epoch, from the config and the 1-based epoch.
        fail: Returns a failure (``"nan_loss"``, ``"out_of_memory"``…) for a config, or None.
        raises: Returns an exception to raise for a config (a bug inside training), or None.
        seconds_per_epoch: Wall time each epoch sleeps, so time budgets and concurrency are real.
        default_epochs: Epochs when neither the call nor the config says (``epochs`` key).

    ``calls`` lists ``(config, seed, epochs_run)`` of every fit, in order.
    """

    score: ScoreFn = stub_score
    fail: Callable[[dict[str, Any]], str | None] = lambda config: None
    raises: Callable[[dict[str, Any]], BaseException | None] = lambda config: None
    seconds_per_epoch: float = 0.0
    default_epochs: int = 3
    calls: list[tuple[dict[str, Any], int, int]] = field(default_factory=list)

    def __call__(
        self,
        config: dict[str, Any],
        dataset: Any,
        *,
        epochs: int | None = None,
        seed: int = 0,
        metric: str = "accuracy",
        model: Any = None,
        initial_epoch: int = 0,
        time_limit: float | None = None,
        on_epoch: Callable[[int, float], bool] | None = None,
        **_: Any,
    ) -> TrainResult:
        started = time.monotonic()
        total = int(epochs or config.get("epochs") or self.default_epochs)
        error = self.raises(config)
        if error is not None:
            raise error
        asked = self.fail(config)
        failure = None if asked is None else FailureKind(asked)
        history: dict[str, list[float]] = {f"val_{metric}": [], "loss": []}
        stopped_by = StopReason.MAX_EPOCHS
        for epoch in range(initial_epoch + 1, total + 1):
            if time_limit is not None and time.monotonic() - started >= time_limit:
                failure = FailureKind.TIMEOUT
                break
            if self.seconds_per_epoch:
                time.sleep(self.seconds_per_epoch)
            value = math.nan if failure is FailureKind.NOT_A_NUMBER else self.score(config, epoch)
            history[f"val_{metric}"].append(value)
            history["loss"].append(1.0 - value if math.isfinite(value) else math.nan)
            if failure is not None:
                break
            interrupts.check()  # as the real fit loop does at each epoch end
            if on_epoch is not None and on_epoch(epoch, value):
                stopped_by = StopReason.CALLBACK
                break
        scores = [s for s in history[f"val_{metric}"] if math.isfinite(s)]
        best = max(scores) if scores else math.nan
        best_epoch = initial_epoch + 1 + history[f"val_{metric}"].index(best) if scores else 0
        run = len(history[f"val_{metric}"])
        self.calls.append((dict(config), seed, run))
        return TrainResult(
            model=None,
            history=history,
            best_epoch=best_epoch,
            best_score=best,
            metric=metric,
            direction="maximize",
            epochs_run=run,
            stopped_by=StopReason.FAILURE if failure else stopped_by,
            failure=failure,
            failure_detail="" if failure is None else f"stub {failure}",
            fit_seconds=time.monotonic() - started,
            n_params=100,
            effective_batch_size=int(config.get("batch_size", 32)),
            seed=seed,
            initial_epoch=initial_epoch,
        )
