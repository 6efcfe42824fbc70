"""The Preprocessor: fitted on train, applied to raw inputs, saved and loaded unchanged."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from automl.datasets import Preprocessor, load_dataset
from automl.exceptions import DatasetError
from automl.tasks import Task


def test_save_and_load_give_identical_transforms(tmp_path: Path, houses_csv: Path) -> None:
    ds = load_dataset(houses_csv, target="price")
    raw = pd.read_csv(houses_csv)
    saved = ds.preprocessor.save(tmp_path / "nested" / "preprocessor.joblib")
    loaded = Preprocessor.load(saved)
    np.testing.assert_array_equal(loaded.transform(raw), ds.preprocessor.transform(raw))
    np.testing.assert_array_equal(loaded.inverse_target(ds.y_val), ds.to_original_units(ds.y_val))
    assert loaded.feature_names_out == ds.feature_names


def test_loading_anything_else_is_refused(tmp_path: Path) -> None:
    import joblib

    joblib.dump({"something": 1}, tmp_path / "other.joblib")
    with pytest.raises(DatasetError, match="not an automl preprocessor"):
        Preprocessor.load(tmp_path / "other.joblib")
    with pytest.raises(DatasetError, match="no preprocessor file"):
        Preprocessor.load(tmp_path / "absent.joblib")


def test_transform_ignores_the_target_and_needs_every_feature(houses_csv: Path) -> None:
    ds = load_dataset(houses_csv, target="price")
    raw = pd.read_csv(houses_csv)
    with_target = ds.preprocessor.transform(raw)
    np.testing.assert_array_equal(ds.preprocessor.transform(raw.drop(columns=["price", "id"])), with_target)
    with pytest.raises(DatasetError, match=r"missing column\(s\) \['area'\]"):
        ds.preprocessor.transform(raw.drop(columns=["area"]))
    with pytest.raises(DatasetError, match="'rooms' should be numeric"):
        ds.preprocessor.transform(raw.assign(rooms="many"))


def test_grey_images_get_a_channel_axis_and_shapes_are_checked() -> None:
    images = np.arange(2 * 4 * 4).reshape(2, 4, 4) * 8  # max 248
    pre = Preprocessor(kind="image", task=Task.BINARY).fit(images, np.array([0, 1]))
    out = pre.transform(images)
    assert out.shape == (2, 4, 4, 1) and out.dtype == np.float32 and out.max() == 1.0
    with pytest.raises(DatasetError, match=r"shape \(5, 5, 1\)"):
        pre.transform(np.zeros((1, 5, 5)))


def test_images_already_in_unit_range_are_not_rescaled() -> None:
    images = np.random.default_rng(0).uniform(0, 1, (3, 2, 2, 3))
    pre = Preprocessor(kind="image", task=Task.MULTICLASS).fit(images, np.array([0, 1, 2]))
    assert pre.scale_ == 1.0
    np.testing.assert_allclose(pre.transform(images), images, rtol=1e-6)


def test_labels_round_trip_and_unseen_labels_are_named() -> None:
    pre = Preprocessor(kind="table", task=Task.MULTICLASS).fit(
        pd.DataFrame({"a": [1.0, 2.0, 3.0]}), np.array(["b", "a", "c"])
    )
    encoded = pre.encode_target(np.array(["c", "a"]))
    assert encoded.dtype == np.int64 and list(encoded) == [2, 0]
    assert list(pre.decode_labels(encoded)) == ["c", "a"]
    with pytest.raises(DatasetError, match=r"\['z'\] never occur in the training split"):
        pre.encode_target(np.array(["a", "z"]))


def test_sequences_are_multi_hot_over_the_top_words() -> None:
    pre = Preprocessor(kind="sequence", task=Task.BINARY, num_words=5).fit([[1, 2]], np.array([0]))
    out = pre.transform([[1, 1, 3], [5, 6, 99], []])
    np.testing.assert_array_equal(out, [[1, 0, 1, 0, 0], [0, 0, 0, 0, 1], [0, 0, 0, 0, 0]])


def test_regression_preprocessor_refuses_to_decode_labels() -> None:
    pre = Preprocessor(kind="table", task=Task.REGRESSION).fit(pd.DataFrame({"a": [1.0, 2.0]}), [1.0, 3.0])
    assert (pre.target_mean_, pre.target_std_) == (2.0, 1.0)
    with pytest.raises(DatasetError, match="applies to classification"):
        pre.decode_labels(np.array([0]))
