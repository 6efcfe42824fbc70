"""Cross-validation folds: every training + validation row validated once, test rows never, and the
preprocessing of each fold fitted on that fold's training rows only."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from automl.datasets import cv_folds, fold_indices, from_frame, load_dataset
from automl.exceptions import UserError


def test_fold_indices_partition_the_rows_and_keep_class_shares():
    labels = np.array([0] * 30 + [1] * 15)
    folds = fold_indices(45, 3, seed=4, labels=labels)
    validated = np.concatenate([val for _, val in folds])
    assert sorted(validated.tolist()) == list(range(45))
    for train, val in folds:
        assert not set(train) & set(val) and len(train) + len(val) == 45
        assert np.bincount(labels[val]).tolist() == [10, 5]
    assert [v.tolist() for _, v in folds] == [
        v.tolist() for _, v in fold_indices(45, 3, seed=4, labels=labels)
    ]


def test_fold_indices_refuse_what_cannot_be_folded():
    with pytest.raises(UserError, match="at least 2 folds"):
        fold_indices(10, 1, seed=0)
    with pytest.raises(UserError, match="class 1 has 2"):
        fold_indices(12, 3, seed=0, labels=np.array([0] * 10 + [1] * 2))
    with pytest.raises(UserError, match="at least 5 training"):
        fold_indices(4, 5, seed=0)


def test_each_fold_is_preprocessed_on_its_own_training_rows():
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "size": rng.normal(50.0, 10.0, 120),
            "colour": rng.choice(["red", "blue"], 120),
            "price": rng.normal(1000.0, 200.0, 120),
        }
    )
    dataset = from_frame(frame, target="price", seed=3)
    folds = cv_folds(dataset, 4)
    assert len(folds) == 4
    n = len(dataset.y_train) + len(dataset.y_val)
    assert sum(len(f.y_val) for f in folds) == n
    _, y_raw = dataset.raw_rows
    test_prices = sorted(np.asarray(y_raw[n:]).round(6).tolist())
    for fold in folds:
        # Standardised with the fold's own training statistics: mean 0, std 1 there, not elsewhere.
        size = list(fold.feature_names).index("size")
        assert fold.x_train[:, size].mean() == pytest.approx(0.0, abs=1e-5)
        assert fold.y_train.mean() == pytest.approx(0.0, abs=1e-5)
        assert fold.target_mean == pytest.approx(float(fold.to_original_units(fold.y_train).mean()))
        # The fold's validation rows in original units are raw training + validation prices.
        val_prices = set(fold.to_original_units(fold.y_val).round(6).tolist())
        assert not val_prices & set(test_prices)
        assert sorted(fold.to_original_units(fold.y_test).round(6).tolist()) == pytest.approx(test_prices)
    assert len({f.target_mean for f in folds}) == 4


def test_folds_of_a_classification_set_keep_every_class_in_every_fold():
    iris = load_dataset("iris", seed=0)
    folds = cv_folds(iris, 5)
    for fold in folds:
        assert set(np.unique(fold.y_val)) == {0, 1, 2}
        assert fold.class_names == iris.class_names
    again = cv_folds(iris, 5)
    assert all(np.array_equal(a.x_val, b.x_val) for a, b in zip(folds, again, strict=True))
