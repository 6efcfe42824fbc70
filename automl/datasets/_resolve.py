"""Whatever a caller searches (a name, a file, a Dataset, a DataFrame, ``(x, y)`` arrays) as one Dataset."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from automl.exceptions import UserError

if TYPE_CHECKING:
    from automl.datasets._dataset import Dataset

__all__ = ["resolve_dataset"]


def resolve_dataset(
    data: Any,
    *,
    target: str | None = None,
    task: str | None = None,
    seed: int = 0,
    persistence: str | None = None,
    split: str = "random",
    validation: Any = None,
    test: Any = None,
) -> Dataset:
    """A :class:`Dataset` from a name, a path, a Dataset, ``(x, y)`` arrays or a DataFrame with ``target``.

    ``validation`` and ``test`` are the user's own rows for those splits, in the form of ``data``: file
    paths beside a name or path, DataFrames (or ``(X, y)`` with X a DataFrame) beside a DataFrame,
    ``(x, y)`` beside arrays.
    """
    from automl.datasets._dataset import Dataset
    from automl.datasets._load import from_arrays, from_frame, load_dataset

    given = {
        name: value
        for name, value in (("validation_data", validation), ("test_data", test))
        if value is not None
    }
    if isinstance(data, Dataset):
        if given:
            raise UserError(
                f"a Dataset is split already: drop {' and '.join(given)}, or pass the raw data instead"
            )
        return data
    if isinstance(data, str | os.PathLike):
        for name, value in given.items():
            if not isinstance(value, str | os.PathLike):
                raise UserError(
                    f"{name} beside a dataset file or name must be a file path, not a {type(value).__name__}"
                )
        return load_dataset(
            data, target=target, task=task, seed=seed, persistence=persistence, split=split,
            validation=validation, test=test,
        )  # fmt: skip
    if isinstance(data, pd.DataFrame):
        if target is None:
            raise UserError("fit(DataFrame) needs target=: the name of the column to predict")
        frames = {name: _as_frame(value, target, name) for name, value in given.items()}
        return from_frame(
            data, target=target, task=task, seed=seed, persistence=persistence, split=split,
            validation=frames.get("validation_data"), test=frames.get("test_data"),
        )  # fmt: skip
    if isinstance(data, tuple) and len(data) == 2:
        pairs = {name: _as_pair(value, name) for name, value in given.items()}
        x_val, y_val = pairs.get("validation_data", (None, None))
        x_test, y_test = pairs.get("test_data", (None, None))
        return from_arrays(
            data[0], data[1], task=task, seed=seed, x_val=x_val, y_val=y_val, x_test=x_test, y_test=y_test
        )
    raise UserError(
        f"cannot search on a {type(data).__name__}: give a dataset name, a file path, a Dataset, "
        "(x, y) arrays or a DataFrame with target="
    )


def _as_frame(value: Any, target: str, name: str) -> pd.DataFrame:
    """A split given beside a DataFrame: a DataFrame holding ``target``, or ``(X, y)`` with X a DataFrame."""
    if isinstance(value, pd.DataFrame):
        return value
    if isinstance(value, tuple) and len(value) == 2 and isinstance(value[0], pd.DataFrame):
        return value[0].assign(**{target: np.asarray(value[1]).reshape(-1)})
    raise UserError(f"{name} beside a DataFrame must be a DataFrame with column {target!r}, or (X, y)")


def _as_pair(value: Any, name: str) -> tuple[Any, Any]:
    if isinstance(value, tuple) and len(value) == 2:
        return value
    raise UserError(f"{name} beside (x, y) arrays must be an (x, y) pair too")
