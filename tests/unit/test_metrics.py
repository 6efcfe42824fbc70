"""automl.metrics against scikit-learn's reference implementations, on the same arrays.

Every metric automl reports (search objective, leaderboards, baselines, test scores) goes through
:func:`automl.metrics.score`; here each one is compared with scikit-learn on seeded random arrays and on
edge cases, in every output shape the module accepts.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn import metrics as skm

from automl.exceptions import UserError
from automl.metrics import Metric, default_metric, get_metric, metric_names, probabilities, score
from automl.tasks import Task

TIGHT = {"rel": 1e-12, "abs": 1e-12}
SEEDS = [0, 1, 2]


def _softmax(logits: np.ndarray) -> np.ndarray:
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _binary(seed: int, n: int = 120) -> tuple[np.ndarray, np.ndarray]:
    """Labels with both classes, and P(class 1) loosely correlated with them (never exactly 0.5)."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    y[:2] = [0, 1]
    p1 = np.clip(0.35 * y + rng.uniform(0.0, 0.65, n), 0.001, 0.999)
    assert not np.any(p1 == 0.5)
    return y, p1


def _multiclass(seed: int, n: int = 150, k: int = 4) -> tuple[np.ndarray, np.ndarray]:
    """Labels covering every class, and softmax probabilities that favour the true class a little."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, n)
    y[:k] = np.arange(k)
    logits = rng.normal(size=(n, k))
    logits[np.arange(n), y] += 0.8
    return y, _softmax(logits)


def _regression(seed: int, n: int = 80) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.normal(30.0, 12.0, n)
    return y, y + rng.normal(0.0, 5.0, n)


# ----------------------------------------------------------------- regression


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("shape", ["flat", "column"])
def test_regression_metrics_match_sklearn(seed, shape):
    y, pred = _regression(seed)
    out = pred if shape == "flat" else pred.reshape(-1, 1)
    assert score("rmse", Task.REGRESSION, y, out) == pytest.approx(
        skm.root_mean_squared_error(y, pred), **TIGHT
    )
    assert score("rmse", Task.REGRESSION, y, out) == pytest.approx(
        math.sqrt(skm.mean_squared_error(y, pred)), **TIGHT
    )
    assert score("mae", Task.REGRESSION, y, out) == pytest.approx(skm.mean_absolute_error(y, pred), **TIGHT)
    assert score("r2", Task.REGRESSION, y, out) == pytest.approx(skm.r2_score(y, pred), **TIGHT)
    # The arrays are not trivial: the scores are far from the perfect ones.
    assert score("rmse", Task.REGRESSION, y, out) > 1.0 and score("r2", Task.REGRESSION, y, out) < 0.95


def test_regression_target_as_a_column_and_float32_predictions():
    y, pred = _regression(5)
    pred32 = pred.astype(np.float32)
    expected = skm.root_mean_squared_error(y, pred32.astype(np.float64))
    assert score("rmse", Task.REGRESSION, y.reshape(-1, 1), pred32) == pytest.approx(expected, **TIGHT)
    assert score("mae", Task.REGRESSION, y.reshape(-1, 1), pred32.reshape(-1, 1)) == pytest.approx(
        skm.mean_absolute_error(y, pred32.astype(np.float64)), **TIGHT
    )


def test_regression_perfect_predictions():
    y, _ = _regression(3)
    assert score("rmse", Task.REGRESSION, y, y.copy()) == 0.0
    assert score("mae", Task.REGRESSION, y, y.copy()) == 0.0
    assert score("r2", Task.REGRESSION, y, y.copy()) == 1.0 == skm.r2_score(y, y)


def test_regression_hand_computed_values():
    y = np.array([1.0, 2.0, 3.0, 4.0])
    out = np.array([2.0, 2.0, 3.0, 0.0])  # errors 1, 0, 0, -4
    assert score("rmse", Task.REGRESSION, y, out) == pytest.approx(math.sqrt(17 / 4), **TIGHT)
    assert score("mae", Task.REGRESSION, y, out) == pytest.approx(5 / 4, **TIGHT)
    assert score("r2", Task.REGRESSION, y, out) == pytest.approx(1 - 17 / 5, **TIGHT)  # total SS = 5


def test_r2_of_a_constant_target_is_nan_where_sklearn_forces_a_finite_value():
    # R² divides by the target's variance: automl calls it undefined (NaN, which never wins a comparison);
    # scikit-learn's default substitutes 1.0 (perfect) or 0.0 (imperfect).
    y = np.full(6, 2.5)
    imperfect = y + np.array([0.0, 1.0, -1.0, 0.5, 0.0, 0.0])
    assert math.isnan(score("r2", Task.REGRESSION, y, y.copy()))
    assert math.isnan(score("r2", Task.REGRESSION, y, imperfect))
    assert skm.r2_score(y, y) == 1.0 and skm.r2_score(y, imperfect) == 0.0
    with np.errstate(invalid="ignore"):
        assert math.isnan(skm.r2_score(y, y, force_finite=False))
    assert not get_metric("r2", Task.REGRESSION).is_better(math.nan, -100.0)


# ----------------------------------------------------------------- binary


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("shape", ["flat", "column", "two_columns"])
def test_binary_metrics_match_sklearn(seed, shape):
    y, p1 = _binary(seed)
    out = {"flat": p1, "column": p1.reshape(-1, 1), "two_columns": np.stack([1 - p1, p1], axis=1)}[shape]
    labels = (p1 > 0.5).astype(int)
    assert 0 < labels.sum() < len(labels) and not np.array_equal(labels, y)

    def s(name):
        return score(name, Task.BINARY, y, out)

    assert s("accuracy") == pytest.approx(skm.accuracy_score(y, labels), **TIGHT)
    assert s("balanced_accuracy") == pytest.approx(skm.balanced_accuracy_score(y, labels), **TIGHT)
    assert s("f1") == pytest.approx(skm.f1_score(y, labels), **TIGHT)  # the positive class's F1
    assert s("auc") == pytest.approx(skm.roc_auc_score(y, p1), **TIGHT)
    assert s("log_loss") == pytest.approx(skm.log_loss(y, p1), **TIGHT)
    assert s("log_loss") == pytest.approx(skm.log_loss(y, np.stack([1 - p1, p1], axis=1)), **TIGHT)


def test_binary_f1_is_the_positive_class_not_the_macro_average():
    y = np.array([1, 1, 1, 0, 0, 0, 0, 0])
    p1 = np.array([0.9, 0.8, 0.2, 0.7, 0.1, 0.1, 0.1, 0.1])  # predicts 1, 1, 0, 1, 0, 0, 0, 0
    f1 = score("f1", Task.BINARY, y, p1)
    assert f1 == pytest.approx(2 / 3, **TIGHT)  # precision 2/3, recall 2/3
    assert f1 != pytest.approx(skm.f1_score(y, (p1 > 0.5).astype(int), average="macro"))


def test_binary_labels_given_as_floats():
    y, p1 = _binary(7)
    as_float = y.astype(np.float64).reshape(-1, 1)
    for name in ("accuracy", "f1", "auc", "log_loss"):
        assert score(name, Task.BINARY, as_float, p1) == score(name, Task.BINARY, y, p1)


def test_binary_perfect_predictions():
    y = np.array([0, 1, 1, 0, 1, 0])
    p1 = y.astype(np.float64)
    for name in ("accuracy", "balanced_accuracy", "f1", "auc"):
        assert score(name, Task.BINARY, y, p1) == 1.0, name
    assert score("log_loss", Task.BINARY, y, p1) == pytest.approx(0.0, abs=1e-14)
    assert skm.log_loss(y, p1) == pytest.approx(0.0, abs=1e-14)


def test_binary_log_loss_of_confident_mistakes_is_clipped_to_a_finite_value():
    y = np.array([0, 1, 1, 0])
    p1 = np.array([0.0, 1.0, 0.0, 1.0])  # two certain and right, two certain and wrong
    value = score("log_loss", Task.BINARY, y, p1)
    # Probabilities are clipped to [eps, 1] (float64's machine epsilon) and renormalised, as scikit-learn does.
    eps = np.finfo(np.float64).eps
    assert value == pytest.approx(-math.log(eps / (1 + eps)) / 2, rel=1e-12)
    assert value == pytest.approx(skm.log_loss(y, p1), rel=1e-9)


def test_binary_threshold_tie_goes_to_class_zero():
    # argmax of [1 - p, p] picks the first column on a tie: P(class 1) = 0.5 predicts class 0.
    y = np.array([0, 1, 1, 0])
    p1 = np.array([0.5, 0.5, 0.9, 0.1])
    assert score("accuracy", Task.BINARY, y, p1) == 0.75


def test_auc_with_a_single_class_present_is_nan():
    # Undefined (scikit-learn raises or warns, by version); automl reports NaN, e.g. on a tiny validation split.
    y = np.zeros(5, dtype=int)
    assert math.isnan(score("auc", Task.BINARY, y, np.linspace(0.1, 0.9, 5)))
    assert math.isnan(score("auc", Task.MULTICLASS, y, _softmax(np.eye(5, 3))))


# ----------------------------------------------------------------- multiclass


@pytest.mark.parametrize("seed", SEEDS)
def test_multiclass_metrics_match_sklearn(seed):
    y, proba = _multiclass(seed)
    labels = proba.argmax(axis=1)
    assert 0.3 < skm.accuracy_score(y, labels) < 0.95  # neither random nor perfect

    def s(name):
        return score(name, Task.MULTICLASS, y, proba)

    assert s("accuracy") == pytest.approx(skm.accuracy_score(y, labels), **TIGHT)
    assert s("balanced_accuracy") == pytest.approx(skm.balanced_accuracy_score(y, labels), **TIGHT)
    assert s("f1") == pytest.approx(skm.f1_score(y, labels, average="macro"), **TIGHT)
    assert s("auc") == pytest.approx(skm.roc_auc_score(y, proba, multi_class="ovr"), **TIGHT)
    assert s("log_loss") == pytest.approx(skm.log_loss(y, proba), **TIGHT)


def test_multiclass_float32_probabilities_are_scored_in_float64():
    # Keras outputs float32, whose rows sum to 1 only within ~1e-7; automl converts to float64 and
    # renormalises each row, so its score matches scikit-learn on the renormalised float64 copy
    # (scikit-learn on the float32 array itself works in float32: ~1e-7 off).
    y, proba = _multiclass(4)
    proba32 = proba.astype(np.float32)
    renormalised = proba32.astype(np.float64) / proba32.astype(np.float64).sum(axis=1, keepdims=True)
    for name, reference in (
        ("log_loss", skm.log_loss(y, renormalised)),
        ("auc", skm.roc_auc_score(y, proba32.astype(np.float64), multi_class="ovr")),
    ):
        assert score(name, Task.MULTICLASS, y, proba32) == pytest.approx(reference, **TIGHT)
    assert score("log_loss", Task.MULTICLASS, y, proba32) == pytest.approx(skm.log_loss(y, proba32), rel=1e-6)


def test_multiclass_f1_counts_a_never_predicted_class_as_zero():
    y = np.array([0, 1, 2, 2, 1, 0])
    proba = np.eye(3)[[0, 1, 1, 1, 1, 0]]  # class 2 is never predicted
    expected = skm.f1_score(y, proba.argmax(axis=1), average="macro", zero_division=0)
    assert score("f1", Task.MULTICLASS, y, proba) == pytest.approx(expected, **TIGHT)
    assert expected == pytest.approx((1.0 + 2 / 3 + 0.0) / 3, **TIGHT)


def test_multiclass_auc_with_an_absent_class_scores_the_classes_present():
    # One-vs-rest AUC is undefined for a class absent from y: automl drops its column and renormalises.
    y, proba = _multiclass(6, k=4)
    keep = y != 3
    y, proba = y[keep], proba[keep]
    sub = proba[:, :3] / proba[:, :3].sum(axis=1, keepdims=True)
    expected = skm.roc_auc_score(y, sub, multi_class="ovr")
    assert score("auc", Task.MULTICLASS, y, proba) == pytest.approx(expected, **TIGHT)
    with pytest.raises(ValueError):
        skm.roc_auc_score(y, proba, multi_class="ovr")  # scikit-learn refuses the 4-column array


def test_multiclass_perfect_and_log_loss_edges():
    y = np.array([0, 1, 2, 3, 2, 1])
    one_hot = np.eye(4)[y]
    for name in ("accuracy", "balanced_accuracy", "f1", "auc"):
        assert score(name, Task.MULTICLASS, y, one_hot) == 1.0, name
    assert score("log_loss", Task.MULTICLASS, y, one_hot) == pytest.approx(0.0, abs=1e-14)
    assert skm.log_loss(y, one_hot) == pytest.approx(0.0, abs=1e-14)
    uniform = np.full((6, 4), 0.25)
    assert score("log_loss", Task.MULTICLASS, y, uniform) == pytest.approx(math.log(4), **TIGHT)
    assert skm.log_loss(y, uniform) == pytest.approx(math.log(4), **TIGHT)


# ----------------------------------------------------------------- registry


def test_probabilities_shapes():
    p1 = np.array([0.2, 0.7])
    expected = np.array([[0.8, 0.2], [0.3, 0.7]])
    np.testing.assert_allclose(probabilities(p1), expected, rtol=0, atol=1e-15)
    np.testing.assert_allclose(probabilities(p1.reshape(-1, 1)), expected, rtol=0, atol=1e-15)
    three = np.array([[0.1, 0.2, 0.7]])
    np.testing.assert_array_equal(probabilities(three), three)
    assert probabilities(p1.astype(np.float32)).dtype == np.float64


def test_metric_names_per_task_and_directions():
    classification = ["accuracy", "balanced_accuracy", "f1", "auc", "log_loss"]
    assert metric_names(Task.BINARY) == classification
    assert metric_names(Task.MULTICLASS) == classification
    assert metric_names(Task.REGRESSION) == ["rmse", "mae", "r2"]
    assert metric_names() == [*classification, "rmse", "mae", "r2"]
    minimize = {"log_loss", "rmse", "mae"}
    for name in metric_names():
        task = Task.REGRESSION if name in ("rmse", "mae", "r2") else Task.BINARY
        metric = get_metric(name, task)
        assert isinstance(metric, Metric) and metric.name == name
        assert metric.direction == ("minimize" if name in minimize else "maximize")
        assert metric.greater_is_better is (name not in minimize)
        assert metric.worst == (math.inf if name in minimize else -math.inf)
    assert [
        n
        for n in metric_names()
        if get_metric(n, Task.REGRESSION if n in ("rmse", "mae", "r2") else Task.BINARY).needs_probabilities
    ] == ["auc", "log_loss"]


@pytest.mark.parametrize(
    ("task", "name"), [(Task.BINARY, "accuracy"), (Task.MULTICLASS, "accuracy"), (Task.REGRESSION, "rmse")]
)
def test_default_metric_and_auto(task, name):
    assert default_metric(task).name == name
    assert get_metric(None, task) is get_metric("auto", task) is get_metric(name, task)


def test_is_better_follows_the_direction_and_never_prefers_nan():
    rmse, acc = get_metric("rmse", Task.REGRESSION), get_metric("accuracy", Task.BINARY)
    assert rmse.is_better(1.0, 2.0) and not rmse.is_better(2.0, 1.0) and not rmse.is_better(1.0, 1.0)
    assert acc.is_better(0.9, 0.8) and not acc.is_better(0.8, 0.9) and not acc.is_better(0.8, 0.8)
    for metric in (rmse, acc):
        assert not metric.is_better(math.nan, metric.worst)
        assert metric.is_better(metric.worst, math.nan)
        assert not metric.is_better(math.nan, math.nan)


@pytest.mark.parametrize(
    ("name", "task", "message"),
    [
        ("rsme", Task.REGRESSION, "unknown metric 'rsme'; use one of: rmse, mae, r2"),
        (
            "rmse",
            Task.BINARY,
            "metric does not apply to a binary task: 'rmse'; use one of: accuracy, balanced_accuracy, f1, auc, log_loss",
        ),
        (
            "auc",
            Task.REGRESSION,
            "metric does not apply to a regression task: 'auc'; use one of: rmse, mae, r2",
        ),
    ],
)
def test_unknown_or_inapplicable_metric_names_the_valid_ones(name, task, message):
    with pytest.raises(UserError) as info:
        get_metric(name, task)
    assert str(info.value) == message
    with pytest.raises(UserError) as info:
        score(name, task, np.array([0, 1]), np.array([0.2, 0.8]))
    assert str(info.value) == message
