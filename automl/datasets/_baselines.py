"""Baselines beside every leaderboard: the class prior (or the mean), a linear model, and persistence.

One code path scores both the validation split (models fitted on train, for the search) and the test split
(fitted on train + validation, beside the retrained winner). Scores are in the target's original units.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from typing import Literal

import numpy as np

from automl.datasets._dataset import Dataset
from automl.metrics import Metric, get_metric, score

__all__ = ["LINEAR_MAX_ROWS", "baselines", "baselines_on_test", "validation_baselines"]

# The linear baseline is a reference point, not a contender: on large datasets (mnist, imdb) it is fitted
# on a seeded subsample of this many rows so that it costs seconds, not minutes.
LINEAR_MAX_ROWS = 10_000
# scikit-learn's default; separable data (mnist-like) would otherwise iterate for minutes (measured: 100
# L-BFGS steps on 10,000 x 784 take ~12 s on 2 cores) for a reference score that barely moves.
_MAX_ITER = 100

Split = Literal["val", "test"]


def validation_baselines(dataset: Dataset, metric: str | None = None) -> dict[str, float]:
    """Validation scores of ``majority`` / ``mean`` and ``linear``, each fitted on the training split.

    ``metric`` defaults to the task's (:func:`automl.metrics.default_metric`). ``majority`` predicts the
    training class frequencies as probabilities for every row (its accuracy is the majority rate, its log
    loss the prior's); ``mean`` predicts the training mean; ``linear`` is a logistic regression (classes) or
    a ridge regression (values) on the flattened inputs. Where the dataset names a column holding the
    target's last known value, ``persistence`` predicts that value (the naive forecast a model of a series
    must beat). Deterministic for a given dataset.
    """
    return baselines(dataset, metric, split="val")


def baselines_on_test(dataset: Dataset, metric: str | None = None) -> dict[str, float]:
    """The same baselines scored on the test split, fitted on train + validation (as the retrained model)."""
    return baselines(dataset, metric, split="test")


def baselines(dataset: Dataset, metric: str | None = None, *, split: Split = "val") -> dict[str, float]:
    """Baseline scores on ``split``: fitted on train for ``"val"``, on train + validation for ``"test"``."""
    chosen = get_metric(metric, dataset.task)
    if split == "val":
        x_fit, y_fit, x_eval, y_eval = dataset.x_train, dataset.y_train, dataset.x_val, dataset.y_val
        persistence = dataset.persistence_val
    elif split == "test":
        (x_fit, y_fit), x_eval, y_eval = dataset.train_val(), dataset.x_test, dataset.y_test
        persistence = dataset.persistence_test
    else:
        raise ValueError(f"split must be 'val' or 'test', got {split!r}")
    x_fit = x_fit.reshape(len(x_fit), -1)
    # Compact rows (uint8) as the float32 values the model computes on: pixels / 255, as before.
    x_eval = dataset.float_inputs(x_eval.reshape(len(x_eval), -1))
    # A hand-made Dataset may carry non-finite features; the linear model cannot score them (NaN says so).
    fits = bool(np.isfinite(x_fit).all() and np.isfinite(x_eval).all())
    outputs: dict[str, np.ndarray | None]
    if dataset.task.is_classification:
        outputs = {
            "majority": _prior(y_fit, _n_classes(dataset), len(x_eval)),
            "linear": (
                _logistic(x_fit, y_fit, x_eval, _n_classes(dataset), dataset.seed, dataset.float_inputs)
                if fits
                else None
            ),
        }
    else:
        outputs = {
            "mean": dataset.to_original_units(np.full(len(x_eval), float(np.mean(y_fit)))),
            "linear": (
                dataset.to_original_units(_ridge(x_fit, y_fit, x_eval, dataset.seed, dataset.float_inputs))
                if fits
                else None
            ),
        }
    if persistence is not None:
        outputs["persistence"] = (
            np.eye(_n_classes(dataset))[persistence]
            if dataset.task.is_classification
            else dataset.to_original_units(persistence)
        )
    truth = dataset.to_original_units(y_eval)
    return {
        name: math.nan if output is None else _score(chosen, dataset, truth, output)
        for name, output in outputs.items()
    }


def _score(metric: Metric, dataset: Dataset, truth: np.ndarray, output: np.ndarray) -> float:
    return float(score(metric.name, dataset.task, truth, output))


def _n_classes(dataset: Dataset) -> int:
    return int(dataset.n_classes or int(max(dataset.y_train.max(), dataset.y_val.max())) + 1)


def _prior(y_fit: np.ndarray, n_classes: int, n_rows: int) -> np.ndarray:
    counts = np.bincount(y_fit.astype(np.int64), minlength=n_classes).astype(np.float64)
    return np.tile(counts / counts.sum(), (n_rows, 1))


def _subsample(x: np.ndarray, y: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    if len(x) <= LINEAR_MAX_ROWS:
        return x, y
    rows = np.sort(np.random.default_rng(seed).choice(len(x), LINEAR_MAX_ROWS, replace=False))
    return x[rows], y[rows]


def _logistic(
    x_fit: np.ndarray,
    y_fit: np.ndarray,
    x_eval: np.ndarray,
    n_classes: int,
    seed: int,
    as_float: Callable[[np.ndarray], np.ndarray],
) -> np.ndarray:
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression

    x_fit, y_fit = _subsample(x_fit, y_fit, seed)
    x_fit = as_float(x_fit)
    model = LogisticRegression(max_iter=_MAX_ITER)
    with warnings.catch_warnings():
        # A baseline that stopped short of convergence is still the reference it is meant to be.
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(x_fit, y_fit)
    # A class absent from a subsample gets probability 0, so the output keeps one column per class.
    proba = np.zeros((len(x_eval), n_classes))
    proba[:, model.classes_.astype(np.int64)] = model.predict_proba(x_eval)
    return proba


def _ridge(
    x_fit: np.ndarray,
    y_fit: np.ndarray,
    x_eval: np.ndarray,
    seed: int,
    as_float: Callable[[np.ndarray], np.ndarray],
) -> np.ndarray:
    from sklearn.linear_model import Ridge

    x_fit, y_fit = _subsample(x_fit, y_fit, seed)
    x_fit = as_float(x_fit)
    return np.asarray(Ridge(alpha=1.0).fit(x_fit, y_fit).predict(x_eval))
