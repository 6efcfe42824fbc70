"""load_dataset on the built-ins and on real small files: splits, tasks, preprocessing, names."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from automl.datasets import from_arrays, from_frame, list_datasets, load_dataset
from automl.tasks import Task


@pytest.mark.parametrize(
    ("name", "task", "kind", "shape"),
    [
        ("digits", Task.MULTICLASS, "image", (8, 8, 1)),
        ("breast_cancer", Task.BINARY, "tabular", (30,)),
        ("wine", Task.MULTICLASS, "tabular", (13,)),
        ("iris", Task.MULTICLASS, "tabular", (4,)),
        ("diabetes", Task.REGRESSION, "tabular", (10,)),
        ("auto_mpg", Task.REGRESSION, "tabular", (9,)),
    ],
)
def test_offline_builtins_load_with_their_task_kind_and_dtypes(name, task, kind, shape) -> None:
    ds = load_dataset(name)
    assert (ds.name, ds.task, ds.kind, ds.input_shape) == (name, task, kind, shape)
    for x in (ds.x_train, ds.x_val, ds.x_test):
        assert x.dtype == np.float32 and np.isfinite(x).all()
    expected_y = np.float32 if task is Task.REGRESSION else np.int64
    assert {ds.y_train.dtype, ds.y_val.dtype, ds.y_test.dtype} == {np.dtype(expected_y)}


def test_builtins_are_listed_with_offline_flags() -> None:
    listed = {info.name: info for info in list_datasets()}
    assert {"digits", "breast_cancer", "wine", "iris", "diabetes", "auto_mpg"} <= {
        n for n, i in listed.items() if i.offline
    }
    assert {"mnist", "fashion_mnist", "cifar10", "imdb"} <= {n for n, i in listed.items() if not i.offline}
    name, description, task, offline = listed["auto_mpg"]
    assert (name, task, offline) == ("auto_mpg", Task.REGRESSION, True) and "Auto MPG" in description


def test_digits_are_images_scaled_by_the_training_maximum() -> None:
    ds = load_dataset("digits")
    assert ds.preprocessor.scale_ == 16.0
    assert ds.x_train.min() == 0.0 and ds.x_train.max() == 1.0
    assert ds.class_names == tuple(str(d) for d in range(10))


def test_split_sizes_are_the_fractions_and_the_splits_are_disjoint() -> None:
    ds = load_dataset("digits", val_fraction=0.25, test_fraction=0.15)
    n = 1797
    assert len(ds.x_train) + len(ds.x_val) + len(ds.x_test) == n
    assert abs(len(ds.x_val) - 0.25 * n) <= 10 and abs(len(ds.x_test) - 0.15 * n) <= 10
    rows = [{x.tobytes() for x in split} for split in (ds.x_train, ds.x_val, ds.x_test)]
    # digits has a few duplicate images, so compare sizes with a tolerance rather than expect none shared.
    assert len(rows[0] & rows[1]) < 5 and len(rows[0] & rows[2]) < 5


def test_classification_splits_are_stratified() -> None:
    ds = load_dataset("breast_cancer")
    rates = [float(np.mean(y)) for y in (ds.y_train, ds.y_val, ds.y_test)]
    assert max(rates) - min(rates) < 0.01
    assert ds.class_names == ("malignant", "benign")


def test_the_same_seed_gives_the_same_split_and_another_seed_another() -> None:
    a, b, c = load_dataset("wine", seed=3), load_dataset("wine", seed=3), load_dataset("wine", seed=4)
    assert a.fingerprint == b.fingerprint
    np.testing.assert_array_equal(a.x_val, b.x_val)
    assert a.fingerprint != c.fingerprint
    assert a.seed == 3


def test_scaler_and_imputer_are_fitted_on_the_training_split_only() -> None:
    rng = np.random.default_rng(0)
    b = rng.normal(5.0, 2.0, 100)
    b[::10] = np.nan
    frame = pd.DataFrame({"row": np.arange(100.0), "b": b, "y": rng.normal(size=100)})
    ds = from_frame(frame, target="y")
    numeric = ds.preprocessor.columns_.named_transformers_["numeric"]
    scaler, imputer = numeric.named_steps["scale"], numeric.named_steps["impute"]
    # Recover which raw rows went to train from the `row` column, then check the statistics of `b` on them.
    train_rows = np.rint(ds.x_train[:, 0] * scaler.scale_[0] + scaler.mean_[0]).astype(int)
    assert len(train_rows) == 60 and len(set(train_rows)) == 60
    train_b = frame["b"].to_numpy()[train_rows]
    assert imputer.statistics_[1] == pytest.approx(np.nanmedian(train_b))
    imputed = np.where(np.isnan(train_b), np.nanmedian(train_b), train_b)
    assert scaler.mean_[1] == pytest.approx(imputed.mean())
    assert abs(scaler.mean_[1] - np.nanmean(frame["b"])) > 1e-3  # not the statistics of all rows
    np.testing.assert_allclose(ds.x_train.mean(axis=0), 0.0, atol=1e-5)
    assert np.abs(ds.x_val.mean(axis=0)).max() > 0.01


def test_every_class_is_in_every_split_even_the_smallest() -> None:
    x = np.arange(33.0).reshape(-1, 1)
    y = np.array(["big"] * 30 + ["tiny"] * 3)
    ds = from_arrays(x, y)
    for labels in (ds.y_train, ds.y_val, ds.y_test):
        assert set(labels) == {0, 1}
    iris = load_dataset("iris")
    assert [np.bincount(y).tolist() for y in (iris.y_val, iris.y_test)] == [[10, 10, 10]] * 2


def test_regression_targets_are_standardised_on_train_and_round_trip() -> None:
    from sklearn.datasets import load_diabetes

    ds = load_dataset("diabetes")
    assert abs(float(ds.y_train.mean())) < 1e-5 and abs(float(ds.y_train.std()) - 1.0) < 1e-4
    original = np.concatenate([ds.to_original_units(y) for y in (ds.y_train, ds.y_val, ds.y_test)])
    np.testing.assert_allclose(np.sort(original), np.sort(load_diabetes().target), rtol=1e-5)
    np.testing.assert_allclose(ds.preprocessor.inverse_target(ds.y_val), ds.to_original_units(ds.y_val))
    assert ds.target_mean == pytest.approx(float(ds.to_original_units(ds.y_train).mean()))


def test_auto_mpg_one_hots_origin_imputes_horsepower_and_drops_the_car_name() -> None:
    ds = load_dataset("auto_mpg")
    assert ds.target == "mpg" and ds.info["dropped_columns"] == {"name": "asked"}
    assert {"origin_usa", "origin_europe", "origin_japan"} <= set(ds.feature_names)
    assert "name" not in " ".join(ds.feature_names)
    assert len(ds.x_train) + len(ds.x_val) + len(ds.x_test) == 398
    raw = pd.read_csv(Path(ds.source))
    assert raw["horsepower"].isna().sum() == 6
    onehot = ds.x_train[:, [ds.feature_names.index(f"origin_{o}") for o in ("usa", "europe", "japan")]]
    np.testing.assert_array_equal(onehot.sum(axis=1), 1.0)
    assert 15 < ds.target_mean < 32


def test_csv_with_missing_values_categoricals_and_an_id_column(houses_csv: Path) -> None:
    ds = load_dataset(houses_csv, target="price")
    assert ds.name == "houses" and ds.task is Task.REGRESSION and ds.kind == "tabular"
    assert ds.info["dropped_columns"]["id"].startswith("identifier-like")
    assert set(ds.feature_names) == {
        "area",
        "rooms",
        "city_lyon",
        "city_nantes",
        "city_paris",
        "city_<missing>",
    }
    assert np.isfinite(ds.x_train).all()
    # A city never seen in training encodes as all zeros; a missing number becomes the training median.
    new = pd.DataFrame({"area": [100.0], "city": ["brest"], "rooms": [np.nan]})
    row = ds.preprocessor.transform(new)[0]
    cities = [ds.feature_names.index(c) for c in ds.feature_names if c.startswith("city_")]
    assert row[cities].sum() == 0.0
    imputer = ds.preprocessor.columns_.named_transformers_["numeric"].named_steps["impute"]
    scaler = ds.preprocessor.columns_.named_transformers_["numeric"].named_steps["scale"]
    rooms = ds.feature_names.index("rooms")
    assert row[rooms] == pytest.approx(
        (imputer.statistics_[1] - scaler.mean_[1]) / scaler.scale_[1], rel=1e-5
    )


def test_without_a_target_the_last_column_is_used_and_said(houses_csv: Path) -> None:
    ds = load_dataset(houses_csv)
    assert ds.target == "price" and "last column 'price'" in ds.info["target_note"]


def test_text_labels_are_encoded_in_sorted_order_and_decoded(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    frame = pd.DataFrame(
        {"a": rng.normal(size=60), "b": rng.normal(size=60), "kind": ["cat", "dog", "eel"] * 20}
    )
    path = tmp_path / "pets.parquet"
    frame.to_parquet(path)
    ds = load_dataset(path, target="kind", name="animals")
    assert ds.name == "animals" and ds.task is Task.MULTICLASS and ds.class_names == ("cat", "dog", "eel")
    assert list(ds.preprocessor.decode_labels(np.array([2, 0]))) == ["eel", "cat"]
    assert ds.info["task_note"].startswith("inferred")


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (np.arange(60) % 2, Task.BINARY),
        (np.arange(60) % 5, Task.MULTICLASS),
        (np.arange(60) * 1.5, Task.REGRESSION),
        (np.arange(60), Task.REGRESSION),  # 60 distinct integers: a quantity
    ],
)
def test_task_inference(values: np.ndarray, expected: Task) -> None:
    x = np.random.default_rng(0).normal(size=(60, 3))
    assert from_arrays(x, values).task is expected


def test_task_classification_resolves_to_binary_or_multiclass() -> None:
    x = np.random.default_rng(0).normal(size=(60, 3))
    assert from_arrays(x, np.arange(60) % 2, task="classification").task is Task.BINARY
    assert from_arrays(x, np.arange(60) % 3, task="classification").task is Task.MULTICLASS
    assert from_arrays(x, np.arange(60) % 3, task="regression").task is Task.REGRESSION


def test_a_users_test_file_is_the_test_split(tmp_path: Path, houses_csv: Path) -> None:
    frame = pd.read_csv(houses_csv)
    main, held_out = tmp_path / "main.csv", tmp_path / "held_out.csv"
    frame.iloc[:100].to_csv(main, index=False)
    frame.iloc[100:].to_csv(held_out, index=False)
    ds = load_dataset(main, target="price", test=held_out, val_fraction=0.25)
    assert (len(ds.x_train), len(ds.x_val), len(ds.x_test)) == (75, 25, 20)
    assert ds.info["test_split"] == "file"
    np.testing.assert_allclose(ds.to_original_units(ds.y_test), frame["price"].iloc[100:], rtol=1e-5)


def test_npz_tables_images_and_official_test_split(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    path = tmp_path / "grey.npz"
    np.savez(
        path,
        x=rng.integers(0, 256, (40, 5, 5)),
        y=np.arange(40) % 2,
        x_test=rng.integers(0, 256, (7, 5, 5)),
        y_test=np.arange(7) % 2,
    )
    ds = load_dataset(path)
    assert ds.kind == "image" and ds.input_shape == (5, 5, 1) and len(ds.x_test) == 7
    assert ds.info["test_split"] == "official"
    table = tmp_path / "table.npz"
    np.savez(table, x=rng.normal(size=(50, 3)), y=rng.normal(size=50))
    ds = load_dataset(table)
    assert ds.kind == "tabular" and ds.feature_names == ("x0", "x1", "x2") and ds.task is Task.REGRESSION


def test_from_frame_matches_the_csv_loader(houses_csv: Path) -> None:
    a = from_frame(pd.read_csv(houses_csv), target="price", name="houses")
    b = load_dataset(houses_csv, target="price")
    np.testing.assert_array_equal(a.x_train, b.x_train)


def test_url_csv_is_downloaded_once_into_the_cache(tmp_path: Path, houses_csv: Path, cache: Path) -> None:
    source = tmp_path / "served" / "remote_houses.csv"
    source.parent.mkdir()
    source.write_bytes(houses_csv.read_bytes())
    url = source.as_uri()
    ds = load_dataset(url, target="price")
    assert ds.name == "remote_houses" and ds.source == url
    cached = list((cache / "urls").glob("*/remote_houses.csv"))
    assert len(cached) == 1 and cached[0].read_bytes() == houses_csv.read_bytes()
    source.unlink()  # a second load must not need the origin any more
    again = load_dataset(url, target="price")
    assert again.fingerprint == ds.fingerprint
