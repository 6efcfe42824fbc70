"""The persistence baseline: a column holding the target's last known value, predicted as is."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from automl.datasets import baselines_on_test, from_frame, load_dataset
from automl.exceptions import DatasetError


def series(n: int = 200, seed: int = 0) -> pd.DataFrame:
    """A random walk whose value is always its previous value plus exactly 1.5, and a noise feature."""
    rng = np.random.default_rng(seed)
    level = np.cumsum(rng.normal(0, 5, n + 1))
    return pd.DataFrame({"noise": rng.normal(size=n), "lag1": level[:-1], "demand": level[:-1] + 1.5})


def test_regression_persistence_scores_exactly_the_step(tmp_path) -> None:
    path = tmp_path / "demand.csv"
    series().to_csv(path, index=False)
    dataset = load_dataset(path, target="demand", persistence="lag1")
    val = dataset.baselines("rmse")
    assert val["persistence"] == pytest.approx(1.5, abs=1e-4)  # every prediction is off by the step
    assert val["mean"] > 3  # a random walk wanders far from its mean
    mae = baselines_on_test(dataset, "mae")
    assert mae["persistence"] == pytest.approx(1.5, abs=1e-4)
    assert dataset.info["persistence"] == "lag1" and "lag1" in dataset.feature_names  # still an input


def test_a_missing_previous_value_falls_back_to_the_training_mean() -> None:
    frame = series(n=60)
    frame.loc[:, "lag1"] = np.nan  # no previous value anywhere: persistence is the mean baseline
    frame.loc[0, "lag1"] = 0.0  # (one number, so the column reads as numeric)
    dataset = from_frame(frame, target="demand", persistence="lag1", name="walk")
    scores = dataset.baselines("rmse")
    assert scores["persistence"] == pytest.approx(scores["mean"], rel=0.05)


def test_classification_persistence_predicts_the_previous_label() -> None:
    rng = np.random.default_rng(1)
    state = rng.choice(["calm", "busy", "storm"], size=300, p=[0.5, 0.3, 0.2])
    previous = state.astype(object).copy()
    previous[::10] = "never-seen"  # unknown labels fall back to the majority class
    frame = pd.DataFrame({"x": rng.normal(size=300), "previous": previous, "state": state})
    dataset = from_frame(frame, target="state", persistence="previous", task="multiclass")
    predicted = dataset.persistence_val
    truth = dataset.y_val
    majority = int(np.bincount(dataset.y_train).argmax())
    assert set(np.unique(predicted)) <= set(range(3))
    score = dataset.baselines("accuracy")["persistence"]
    assert score == pytest.approx(float(np.mean(predicted == truth)))
    assert 0.85 < score < 1.0  # right wherever the previous label was known
    assert np.all((predicted == truth) | (predicted == majority))


@pytest.mark.parametrize(
    ("persistence", "fragment"),
    [
        ("lag2", "persistence column 'lag2' is not in dataset 'walk'; its columns are: noise, lag1"),
        ("demand", "persistence='demand' is the target itself"),
    ],
)
def test_bad_persistence_columns_are_one_line(persistence, fragment) -> None:
    with pytest.raises(DatasetError) as info:
        from_frame(series(n=40), target="demand", persistence=persistence, name="walk")
    assert fragment in str(info.value) and "\n" not in str(info.value)


def test_a_text_column_cannot_be_a_regression_persistence() -> None:
    frame = series(n=40).assign(label=["a", "b"] * 20)
    with pytest.raises(DatasetError, match="persistence column 'label' holds no numbers"):
        from_frame(frame, target="demand", persistence="label")


def test_an_ordered_split_keeps_time_order() -> None:
    frame = series(n=100).assign(t=np.arange(100.0))
    dataset = from_frame(frame, target="demand", persistence="lag1", split="ordered", name="walk")
    t = list(dataset.feature_names).index("t")  # standardised, so the order survives
    assert dataset.x_train[:, t].max() < dataset.x_val[:, t].min()
    assert dataset.x_val[:, t].max() < dataset.x_test[:, t].min()
    assert np.all(np.diff(dataset.x_train[:, t]) > 0)  # not shuffled either
    assert (len(dataset.x_train), len(dataset.x_val), len(dataset.x_test)) == (60, 20, 20)
    assert dataset.info["split"] == "ordered" and dataset.info["test_split"] == "last 0.2 of the rows"
    assert dataset.baselines("rmse")["persistence"] == pytest.approx(1.5, abs=1e-4)


def test_an_unknown_split_is_one_line() -> None:
    with pytest.raises(DatasetError, match="unknown split 'time'; use one of: random, ordered"):
        from_frame(series(n=40), target="demand", split="time")
