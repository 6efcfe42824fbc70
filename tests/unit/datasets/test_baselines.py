"""Baselines: the class prior or the mean, and a linear model, scored in original units."""

from __future__ import annotations

import math

import numpy as np
import pytest

from automl.datasets import baselines_on_test, load_dataset, validation_baselines
from automl.metrics import score


def test_linear_beats_majority_on_breast_cancer() -> None:
    ds = load_dataset("breast_cancer")
    scores = validation_baselines(ds)
    assert set(scores) == {"majority", "linear"}
    majority_rate = max(np.mean(ds.y_val), 1 - np.mean(ds.y_val))
    assert scores["majority"] == pytest.approx(majority_rate)
    assert scores["linear"] > 0.9 > scores["majority"]


def test_digits_majority_is_about_a_tenth_and_log_loss_is_the_priors() -> None:
    ds = load_dataset("digits")
    assert validation_baselines(ds)["majority"] == pytest.approx(0.1, abs=0.01)
    priors = np.bincount(ds.y_train, minlength=10) / len(ds.y_train)
    expected = -float(np.mean(np.log(priors[ds.y_val])))
    assert validation_baselines(ds, "log_loss")["majority"] == pytest.approx(expected)
    assert ds.baselines("log_loss") == validation_baselines(ds, "log_loss")


def test_regression_baselines_are_in_original_units() -> None:
    ds = load_dataset("auto_mpg")
    scores = validation_baselines(ds)
    truth = ds.to_original_units(ds.y_val)
    train_mean = float(ds.to_original_units(ds.y_train).mean())
    assert scores["mean"] == pytest.approx(math.sqrt(np.mean((truth - train_mean) ** 2)), rel=1e-5)
    assert 2.0 < scores["linear"] < scores["mean"] < 10.0  # mpg, not standard deviations
    assert validation_baselines(ds, "r2")["linear"] > 0.7


def test_baselines_are_deterministic() -> None:
    ds = load_dataset("wine")
    assert validation_baselines(ds, "log_loss") == validation_baselines(ds, "log_loss")


def test_test_baselines_fit_on_train_and_validation_and_score_the_test_split() -> None:
    ds = load_dataset("diabetes")
    scores = baselines_on_test(ds, "mae")
    _, y_fit = ds.train_val()
    mean = float(ds.to_original_units(y_fit).mean())
    truth = ds.to_original_units(ds.y_test)
    assert scores["mean"] == pytest.approx(score("mae", ds.task, truth, np.full(len(truth), mean)))
    assert scores["linear"] < scores["mean"]


def test_unknown_metric_is_a_user_error() -> None:
    with pytest.raises(ValueError, match="does not apply to a binary task"):
        validation_baselines(load_dataset("breast_cancer"), "rmse")
