"""Every user mistake is one DatasetError line that names the thing and the fix."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from automl.datasets import from_arrays, load_dataset
from automl.exceptions import DatasetError


def _message(**kwargs) -> str:
    source = kwargs.pop("source")
    with pytest.raises(DatasetError) as error:
        load_dataset(source, **kwargs)
    message = str(error.value)
    assert "\n" not in message
    assert isinstance(error.value, ValueError)
    return message


def test_unknown_dataset_lists_the_known_ones_and_suggests_a_path() -> None:
    message = _message(source="digitz")
    assert "unknown dataset 'digitz'" in message and "digits" in message and "auto_mpg" in message
    assert "path" in message and ".csv" in message


def test_missing_file(tmp_path: Path) -> None:
    message = _message(source=tmp_path / "absent.csv")
    assert "file not found" in message and "absent.csv" in message


def test_missing_target_column_lists_the_columns(houses_csv: Path) -> None:
    message = _message(source=houses_csv, target="cost")
    assert "'cost'" in message and "id, area, city, rooms, price" in message


def test_empty_file_and_header_only_file(tmp_path: Path) -> None:
    (tmp_path / "empty.csv").write_text("")
    assert "is empty" in _message(source=tmp_path / "empty.csv")
    (tmp_path / "header.csv").write_text("a,b,y\n")
    assert "has no rows" in _message(source=tmp_path / "header.csv")


def test_a_class_too_small_to_split_is_named_with_its_count(tmp_path: Path) -> None:
    frame = pd.DataFrame({"a": np.arange(32.0), "label": ["common"] * 30 + ["rare"] * 2})
    frame.to_csv(tmp_path / "rare.csv", index=False)
    message = _message(source=tmp_path / "rare.csv", target="label")
    assert "class 'rare' has only 2 row(s)" in message and "at least 3" in message
    assert "merge" in message and "drop" in message


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"val_fraction": 0.0}, "val_fraction must be a number in (0, 1), got 0.0"),
        ({"test_fraction": 1.5}, "test_fraction must be a number in (0, 1), got 1.5"),
        ({"val_fraction": 0.6, "test_fraction": 0.5}, "val_fraction + test_fraction must be below 1"),
    ],
)
def test_bad_fractions(kwargs: dict, fragment: str) -> None:
    assert fragment in _message(source="iris", **kwargs)


def test_unsupported_format_names_the_supported_extensions(tmp_path: Path) -> None:
    (tmp_path / "data.xlsx").write_text("x")
    message = _message(source=tmp_path / "data.xlsx")
    assert (
        "unsupported file type" in message
        and ".csv" in message
        and ".parquet" in message
        and ".npz" in message
    )


def test_unreadable_content(tmp_path: Path) -> None:
    (tmp_path / "broken.npz").write_text("not a zip")
    assert "could not read" in _message(source=tmp_path / "broken.npz")
    (tmp_path / "broken.parquet").write_text("not parquet")
    assert "could not read" in _message(source=tmp_path / "broken.parquet")


def test_npz_without_x_and_y(tmp_path: Path) -> None:
    np.savez(tmp_path / "arrays.npz", features=np.zeros((3, 2)))
    assert "arrays named 'x' and 'y'" in _message(source=tmp_path / "arrays.npz")


def test_a_target_with_one_value_and_impossible_tasks() -> None:
    x = np.zeros((30, 2))
    with pytest.raises(DatasetError, match="single value"):
        from_arrays(x, np.ones(30))
    with pytest.raises(DatasetError, match="task='binary' needs 2 classes but the target has 3"):
        from_arrays(x, np.arange(30) % 3, task="binary")
    with pytest.raises(DatasetError, match="needs a numeric target"):
        from_arrays(x, np.array(["a", "b"] * 15), task="regression")
    with pytest.raises(ValueError, match="unknown task 'ranking'"):
        from_arrays(x, np.arange(30) % 3, task="ranking")


def test_a_test_file_with_unseen_labels_names_them(tmp_path: Path) -> None:
    frame = pd.DataFrame({"a": np.arange(30.0), "y": ["u", "v"] * 15})
    frame.to_csv(tmp_path / "main.csv", index=False)
    frame.assign(y="w").to_csv(tmp_path / "test.csv", index=False)
    message = _message(source=tmp_path / "main.csv", test=tmp_path / "test.csv")
    assert "test split" in message and "['w']" in message


def test_a_builtin_has_a_fixed_target() -> None:
    assert "fixed target 'mpg'" in _message(source="auto_mpg", target="weight")
