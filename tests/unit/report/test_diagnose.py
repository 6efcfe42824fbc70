"""Learning-curve diagnosis on curves built to show each case."""

import math

import pytest

from automl.report import Diagnosis, diagnose


def decay(n, start=2.0, end=0.2, rate=0.35):
    return [end + (start - end) * math.exp(-rate * i) for i in range(n)]


def test_rising_validation_loss_with_falling_training_loss_is_over_fitting():
    train = decay(30, 2.0, 0.05)
    val = [v + 0.02 * max(0, i - 12) ** 1.3 for i, v in enumerate(decay(30, 2.0, 0.5))]
    result = diagnose({"loss": train, "val_loss": val})
    assert result.label == "over-fit"
    assert result.epoch == min(range(30), key=val.__getitem__) + 1
    assert f"rises after epoch {result.epoch}" in result.advice
    assert "L2" in result.advice and "dropout" in result.advice


def test_early_stopping_says_the_best_weights_were_kept():
    train = decay(20, 2.0, 0.05)
    val = [*decay(12, 2.0, 0.5), *(0.6 + 0.05 * i for i in range(8))]
    result = diagnose({"loss": train, "val_loss": val}, stopped_by="early_stopping")
    assert result.label == "over-fit"
    assert "early stopping kept epoch" in result.advice


def test_flat_training_loss_is_under_fitting():
    train = [1.10, 1.09, 1.09, 1.08, 1.08, 1.08]
    val = [1.11, 1.10, 1.10, 1.09, 1.09, 1.09]
    result = diagnose({"loss": train, "val_loss": val})
    assert result.label == "under-fit"
    assert "barely fell" in result.advice


def test_still_falling_at_the_last_epoch_is_under_training():
    train = decay(8, 2.0, 0.1, rate=0.15)
    val = decay(8, 2.1, 0.2, rate=0.15)
    result = diagnose({"loss": train, "val_loss": val})
    assert result.label == "under-fit"
    assert "still falling at the last epoch (8)" in result.advice


def test_not_beating_the_baseline_is_under_fitting():
    history = {
        "loss": decay(10),
        "val_loss": decay(10, 2.1, 0.4),
        "val_accuracy": [0.3 + 0.01 * i for i in range(10)],
    }
    result = diagnose(history, metric="accuracy", direction="maximize", baseline=0.5)
    assert result.label == "under-fit"
    assert "baseline" in result.advice
    # beating it, the same curves are balanced
    assert diagnose(history, metric="accuracy", direction="maximize", baseline=0.2).label == "balanced"


def test_minimised_metric_against_its_baseline():
    history = {
        "loss": decay(10),
        "val_loss": decay(10, 2.1, 0.4),
        "val_rmse": [5 - 0.1 * i for i in range(10)],
    }
    assert diagnose(history, metric="rmse", direction="minimize", baseline=3.0).label == "under-fit"
    assert diagnose(history, metric="rmse", direction="minimize", baseline=4.5).label == "balanced"


def test_zig_zag_validation_loss_is_unstable():
    train = decay(12)
    val = [1.0 if i % 2 else 0.6 for i in range(12)]
    result = diagnose({"loss": train, "val_loss": val})
    assert result.label == "unstable"
    assert "changes direction" in result.advice


def test_training_loss_that_ends_higher_is_unstable():
    train = [1.0, 0.8, 1.5, 2.0, 2.5]
    val = [1.0, 0.9, 1.4, 1.9, 2.4]
    assert diagnose({"loss": train, "val_loss": val}).label == "unstable"


def test_non_finite_loss_is_unstable_and_names_the_epoch():
    result = diagnose({"loss": [1.0, 0.8, float("nan")], "val_loss": [1.0, 0.9, None]})
    assert result.label == "unstable"
    assert result.epoch == 3 and "epoch 3" in result.advice


def test_levelled_off_curves_are_balanced():
    train = decay(20, 2.0, 0.3)
    val = [v + 0.001 * (i % 2) for i, v in enumerate(decay(20, 2.1, 0.4))]
    result = diagnose({"loss": train, "val_loss": val})
    assert result.label == "balanced"
    assert isinstance(result, Diagnosis) and str(result).startswith("balanced: ")


@pytest.mark.parametrize("history", [{}, {"loss": [1.0, 0.5]}, {"loss": [1, 0.5, 0.4], "val_loss": [1, 0.6]}])
def test_too_short_or_missing_curves_are_unknown(history):
    assert diagnose(history).label == "unknown"


def test_small_wobbles_after_the_minimum_are_not_over_fitting():
    train = decay(20, 2.0, 0.2)
    val = [*decay(15, 2.0, 0.5), 0.52, 0.51, 0.53, 0.52, 0.52]
    assert diagnose({"loss": train, "val_loss": val}).label == "balanced"
