"""The quality benchmark's mid-size cases: each generator's shape and class balance as its docstring states,
the same data from the same seed, and the file a case is loaded from the way a user loads theirs."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

CASES_FILE = Path(__file__).parents[3] / "benchmarks" / "_quality_cases.py"


def _cases():
    if "quality_cases" not in sys.modules:
        spec = importlib.util.spec_from_file_location("quality_cases", CASES_FILE)
        module = importlib.util.module_from_spec(spec)
        sys.modules["quality_cases"] = module
        spec.loader.exec_module(module)
    return sys.modules["quality_cases"]


qc = _cases()


def _equal(a, b) -> bool:
    if isinstance(a, pd.DataFrame):
        return a.equals(b)
    return a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)


@pytest.mark.parametrize("name", ["multiclass_noisy", "imbalanced", "interactions", "fashion_like_10k"])
def test_a_generator_gives_the_same_data_from_the_same_seed_only(name):
    make = qc.CASES[name].make
    assert _equal(make(3), make(3))
    assert not _equal(make(3), make(4))


def test_multiclass_noisy_has_8_balanced_classes_over_40_features():
    frame = qc.multiclass_noisy()
    assert frame.shape == (5000, 41)
    shares = frame["label"].value_counts(normalize=True)
    assert len(shares) == 8
    assert shares.min() > 0.11 and shares.max() < 0.14


def test_imbalanced_has_about_5_percent_positives():
    frame = qc.imbalanced()
    assert frame.shape == (8000, 25)
    assert sorted(frame["label"].unique()) == [0, 1]
    assert 0.045 < frame["label"].mean() < 0.06  # 5 %, and half of the 1 % labels drawn at random


def test_interactions_is_a_regression_on_20_features_in_the_unit_interval():
    frame = qc.interactions()
    assert frame.shape == (5000, 21)
    features = frame.drop(columns="y").to_numpy()
    assert features.min() >= 0.0 and features.max() <= 1.0
    assert 4.0 < frame["y"].std() < 8.0  # the signal's spread, well above the noise's sd of 1.0


def test_fashion_like_10k_holds_10000_images_of_10_balanced_classes():
    arrays = qc.fashion_like_10k()
    assert arrays["x"].shape == (10_000, 28, 28) and arrays["x"].dtype == np.uint8
    assert np.bincount(arrays["y"]).tolist() == [1000] * 10


def test_fair_is_the_statsmodels_table_with_a_binary_target():
    pytest.importorskip("statsmodels")
    frame = qc.fair()
    assert frame.shape == (6366, 9)
    assert "affairs" not in frame.columns
    assert 0.30 < frame["affair"].mean() < 0.34


def test_a_case_is_written_once_and_loaded_like_a_user_file(tmp_path):
    path = qc.case_file("interactions", tmp_path)
    assert path.parent == tmp_path / "quality-cases" and path.suffix == ".csv"
    written = path.stat().st_mtime_ns
    assert qc.case_file("interactions", tmp_path) == path
    assert path.stat().st_mtime_ns == written  # read from the cache, not written again
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary file left
    dataset = qc.load_case("interactions", seed=0, cache_dir=tmp_path)
    assert dataset.name == "interactions" and dataset.task.value == "regression"
    assert len(dataset.y_train) + len(dataset.y_val) + len(dataset.y_test) == 5000
    other = qc.load_case("interactions", seed=1, cache_dir=tmp_path)
    assert not np.array_equal(dataset.y_test, other.y_test)  # the split follows the seed


def test_the_image_case_loads_as_images(tmp_path):
    dataset = qc.load_case("fashion_like_10k", seed=0, cache_dir=tmp_path)
    assert dataset.task.value == "multiclass" and dataset.x_train.shape[1:3] == (28, 28)


def test_the_sets_name_the_small_tables_and_every_case():
    assert qc.SETS["wide"] == qc.SETS["small"] + qc.SETS["midsize"]
    assert set(qc.SETS["midsize"]) == set(qc.CASES)
