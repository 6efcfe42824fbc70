"""Scores of predictions, computed with numpy / scikit-learn in the target's original units.

One registry serves the search objective, the leaderboards, the baselines and the test evaluation, so a
number called ``rmse`` means the same thing everywhere. Predictions follow one convention:

* classification: class probabilities, shape ``(n, k)``; binary may also be ``(n,)`` / ``(n, 1)``,
  the probability of class 1. ``y_true`` holds integer labels ``0 … k-1``.
* regression: values in the target's original units, shape ``(n,)`` or ``(n, 1)``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np

from automl.exceptions import UserError
from automl.tasks import Task

__all__ = ["Metric", "default_metric", "get_metric", "metric_names", "probabilities", "score"]

Direction = Literal["maximize", "minimize"]
_CLASSIFICATION = frozenset({Task.BINARY, Task.MULTICLASS})
_REGRESSION = frozenset({Task.REGRESSION})


@dataclass(frozen=True)
class Metric:
    """A named score with its direction and the tasks it applies to."""

    name: str
    direction: Direction
    tasks: frozenset[Task]
    function: Callable[[np.ndarray, np.ndarray], float]
    needs_probabilities: bool = False

    @property
    def greater_is_better(self) -> bool:
        return self.direction == "maximize"

    def is_better(self, a: float, b: float) -> bool:
        """Whether score ``a`` beats score ``b`` (NaN never beats anything)."""
        if math.isnan(a):
            return False
        if math.isnan(b):
            return True
        return a > b if self.greater_is_better else a < b

    @property
    def worst(self) -> float:
        return -math.inf if self.greater_is_better else math.inf


def probabilities(output: np.ndarray) -> np.ndarray:
    """Class probabilities ``(n, k)`` from a model output; binary ``(n,)`` / ``(n, 1)`` becomes ``(n, 2)``."""
    output = np.asarray(output, dtype=np.float64)
    if output.ndim == 1 or output.shape[1] == 1:
        p1 = output.reshape(-1)
        return np.stack([1.0 - p1, p1], axis=1)
    return output


def _labels(output: np.ndarray) -> np.ndarray:
    return probabilities(output).argmax(axis=1)


def _accuracy(y: np.ndarray, out: np.ndarray) -> float:
    return float(np.mean(_labels(out) == y))


def _balanced_accuracy(y: np.ndarray, out: np.ndarray) -> float:
    from sklearn.metrics import balanced_accuracy_score

    return float(balanced_accuracy_score(y, _labels(out)))


def _f1(y: np.ndarray, out: np.ndarray) -> float:
    from sklearn.metrics import f1_score

    proba = probabilities(out)
    average = "binary" if proba.shape[1] == 2 else "macro"
    return float(f1_score(y, proba.argmax(axis=1), average=average, zero_division=0))


def _auc(y: np.ndarray, out: np.ndarray) -> float:
    from sklearn.metrics import roc_auc_score

    proba = probabilities(out)
    if len(np.unique(y)) < 2:
        return math.nan
    if proba.shape[1] == 2:
        return float(roc_auc_score(y, proba[:, 1]))
    present = np.unique(y)
    if len(present) < proba.shape[1]:
        # One-vs-rest AUC is undefined for a class absent from y; score the classes present.
        sub = proba[:, present]
        sub = sub / np.clip(sub.sum(axis=1, keepdims=True), 1e-12, None)
        remap = {c: i for i, c in enumerate(present)}
        return float(roc_auc_score(np.vectorize(remap.get)(y), sub, multi_class="ovr"))
    return float(roc_auc_score(y, proba, multi_class="ovr"))


def _log_loss(y: np.ndarray, out: np.ndarray) -> float:
    proba = probabilities(out)
    # The machine epsilon of the outputs' type, as scikit-learn (>= 1.3) clips, so both agree on a
    # certain mistake (about 36 in float64) instead of differing by the clip constant.
    proba = np.clip(proba, np.finfo(proba.dtype).eps, 1.0)
    proba = proba / proba.sum(axis=1, keepdims=True)
    return float(-np.mean(np.log(proba[np.arange(len(y)), y.astype(int)])))


def _values(out: np.ndarray) -> np.ndarray:
    return np.asarray(out, dtype=np.float64).reshape(-1)


def _rmse(y: np.ndarray, out: np.ndarray) -> float:
    return float(np.sqrt(np.mean((_values(out) - y.reshape(-1)) ** 2)))


def _mae(y: np.ndarray, out: np.ndarray) -> float:
    return float(np.mean(np.abs(_values(out) - y.reshape(-1))))


def _r2(y: np.ndarray, out: np.ndarray) -> float:
    y = y.reshape(-1).astype(np.float64)
    total = float(np.sum((y - y.mean()) ** 2))
    if total == 0.0:
        return math.nan
    return 1.0 - float(np.sum((_values(out) - y) ** 2)) / total


_METRICS: dict[str, Metric] = {
    m.name: m
    for m in (
        Metric("accuracy", "maximize", _CLASSIFICATION, _accuracy),
        Metric("balanced_accuracy", "maximize", _CLASSIFICATION, _balanced_accuracy),
        Metric("f1", "maximize", _CLASSIFICATION, _f1),
        Metric("auc", "maximize", _CLASSIFICATION, _auc, needs_probabilities=True),
        Metric("log_loss", "minimize", _CLASSIFICATION, _log_loss, needs_probabilities=True),
        Metric("rmse", "minimize", _REGRESSION, _rmse),
        Metric("mae", "minimize", _REGRESSION, _mae),
        Metric("r2", "maximize", _REGRESSION, _r2),
    )
}


def metric_names(task: Task | None = None) -> list[str]:
    """Names of the metrics that apply to ``task`` (all of them when ``task`` is None)."""
    return [n for n, m in _METRICS.items() if task is None or task in m.tasks]


def default_metric(task: Task) -> Metric:
    """Accuracy for classification, RMSE for regression."""
    return _METRICS["rmse" if task is Task.REGRESSION else "accuracy"]


def get_metric(name: str | None, task: Task) -> Metric:
    """The metric called ``name`` for ``task``; ``None`` or ``"auto"`` gives the task's default.

    Raises:
        UserError: unknown metric, or one that does not apply to the task (the message lists those that do).
    """
    if name is None or name == "auto":
        return default_metric(task)
    metric = _METRICS.get(name)
    if metric is None or task not in metric.tasks:
        valid = ", ".join(metric_names(task))
        why = "unknown metric" if metric is None else f"metric does not apply to a {task.value} task:"
        raise UserError(f"{why} {name!r}; use one of: {valid}")
    return metric


def score(name: str, task: Task, y_true: np.ndarray, output: np.ndarray) -> float:
    """Score model ``output`` against ``y_true`` with the metric ``name`` (see module doc for shapes)."""
    metric = get_metric(name, task)
    y = np.asarray(y_true)
    if task.is_classification:
        y = y.astype(np.int64).reshape(-1)
    return metric.function(y, np.asarray(output))
