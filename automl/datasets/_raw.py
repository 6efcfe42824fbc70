"""RawData: what every loader returns before splitting and preprocessing."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from automl.datasets._preprocess import PreprocessorKind
from automl.exceptions import DatasetError
from automl.tasks import Task

__all__ = ["RawData", "arrays_to_raw", "frame_to_raw"]


@dataclass
class RawData:
    """Unsplit, unprocessed data as a loader read it.

    ``x`` is a DataFrame of feature columns (``kind="table"``), an image array ``(n, h, w[, c])``
    (``"image"``) or a list of integer sequences (``"sequence"``); ``y`` holds one raw target per row.
    ``x_test`` / ``y_test`` are an official test split when the source has one, or the user's test rows
    (the search then splits only validation rows off ``x``); ``x_val`` / ``y_val`` the user's own validation
    rows (then no validation rows are split off). ``persistence`` names a feature column holding the
    target's last known value (the persistence baseline). The other fields are hints the loader knows
    better than inference.
    """

    x: Any
    y: np.ndarray
    kind: PreprocessorKind
    x_test: Any = None
    y_test: np.ndarray | None = None
    x_val: Any = None
    y_val: np.ndarray | None = None
    target: str | None = None
    task: Task | None = None
    categorical: tuple[str, ...] | None = None
    drop: tuple[str, ...] = ()
    class_names: tuple[str, ...] | None = None
    num_words: int = 10_000
    persistence: str | None = None
    source: str = ""
    info: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.y)

    @property
    def has_val(self) -> bool:
        return self.x_val is not None

    @property
    def has_test(self) -> bool:
        return self.x_test is not None


def frame_to_raw(frame: pd.DataFrame, target: str | None, *, where: str) -> RawData:
    """Split a table into feature columns and the ``target`` column (default: the last column).

    Rows whose target is missing are dropped and counted in ``info["rows_without_target"]``.

    Raises:
        DatasetError: no rows, no columns besides the target, or an unknown ``target`` (lists the columns).
    """
    if frame.shape[1] == 0 or len(frame) == 0:
        raise DatasetError(f"{where} has no rows; give a file with a header and at least a few data rows")
    frame = frame.rename(columns=str)
    info: dict[str, Any] = {}
    if target is None:
        target = str(frame.columns[-1])
        info["target_note"] = f"no target given: using the last column {target!r}"
    elif target not in frame.columns:
        raise DatasetError(
            f"target column {target!r} is not in {where}; its columns are: {', '.join(frame.columns)}"
        )
    if frame.shape[1] < 2:
        raise DatasetError(f"{where} has only the target column {target!r}; it needs feature columns too")
    missing = frame[target].isna().to_numpy()
    if missing.all():
        raise DatasetError(f"target column {target!r} of {where} is empty (every value is missing)")
    if missing.any():
        info["rows_without_target"] = int(missing.sum())
        frame = frame.loc[~missing]
    frame = frame.reset_index(drop=True)
    return RawData(
        x=frame.drop(columns=[target]), y=frame[target].to_numpy(), kind="table", target=target, info=info
    )


def arrays_to_raw(x: Any, y: Any, x_test: Any = None, y_test: Any = None, *, where: str) -> RawData:
    """Arrays as :class:`RawData`: ``x`` of rank 2 is a table (columns ``x0, x1, …``), of rank 3-4 images.

    Raises:
        DatasetError: no rows, mismatched lengths, a bad rank, or only one of ``x_test`` / ``y_test``.
    """
    if (x_test is None) != (y_test is None):
        raise DatasetError(f"{where}: give both x_test and y_test, or neither")
    x, y = np.asarray(x), np.asarray(y)
    if len(x) == 0:
        raise DatasetError(f"{where} has no rows (x is empty)")
    if len(x) != len(y):
        raise DatasetError(f"{where}: x has {len(x)} rows but y has {len(y)}")
    raw = RawData(x=_features(x, where), y=y, kind="image" if x.ndim in (3, 4) else "table", source=where)
    if x_test is not None:
        x_test, y_test = np.asarray(x_test), np.asarray(y_test)
        if x_test.shape[1:] != x.shape[1:] or len(x_test) != len(y_test):
            raise DatasetError(
                f"{where}: x_test {x_test.shape} / y_test {y_test.shape} do not match x {x.shape}"
            )
        raw.x_test, raw.y_test = _features(x_test, where), y_test
    return raw


def _features(x: np.ndarray, where: str) -> Any:
    if x.ndim == 2:
        return pd.DataFrame(x, columns=[f"x{j}" for j in range(x.shape[1])])
    if x.ndim in (3, 4):
        return x
    raise DatasetError(f"{where}: x must have rank 2 (table) or 3-4 (images), got shape {x.shape}")
