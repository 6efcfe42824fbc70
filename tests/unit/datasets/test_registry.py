"""register_dataset: user loaders returning frames, arrays or paths."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from automl.datasets import list_datasets, load_dataset, register_dataset, unregister_dataset
from automl.exceptions import DatasetError
from automl.tasks import Task


@pytest.fixture
def forget() -> Iterator[list[str]]:
    names: list[str] = []
    yield names
    for name in names:
        unregister_dataset(name)


def test_a_registered_frame_loader_is_listed_and_loads(forget: list[str]) -> None:
    forget.append("squares")
    x = np.linspace(0, 1, 50)
    register_dataset("squares", lambda: pd.DataFrame({"x": x, "y": x**2}), description="y = x²", target="y")
    info = next(i for i in list_datasets() if i.name == "squares")
    assert info == ("squares", "y = x²", None, True)
    assert info.to_dict() == {"name": "squares", "description": "y = x²", "task": None, "offline": True}
    ds = load_dataset("squares")
    assert ds.name == "squares" and ds.task is Task.REGRESSION and ds.target == "y"


def test_registered_arrays_with_a_test_split_and_a_fixed_task(forget: list[str]) -> None:
    forget.append("blobs")
    rng = np.random.default_rng(0)
    register_dataset(
        "blobs",
        lambda: (rng.normal(size=(40, 2)), np.arange(40) % 2, rng.normal(size=(10, 2)), np.arange(10) % 2),
        task="multiclass",
    )
    ds = load_dataset("blobs")
    assert ds.task is Task.MULTICLASS and len(ds.x_test) == 10 and ds.info["test_split"] == "official"


def test_a_registered_path_loader(forget: list[str], houses_csv: Path) -> None:
    forget.append("houses_again")
    register_dataset("houses_again", lambda: houses_csv, target="price")
    assert load_dataset("houses_again").name == "houses_again"


def test_names_are_checked_and_not_silently_replaced(forget: list[str]) -> None:
    with pytest.raises(DatasetError, match="already registered; pass overwrite=True"):
        register_dataset("digits", lambda: None)
    with pytest.raises(DatasetError, match="invalid dataset name"):
        register_dataset("my data", lambda: None)
    forget.append("odd")
    register_dataset("odd", lambda: 42)
    with pytest.raises(DatasetError, match="returned int"):
        load_dataset("odd")
