"""One copy of a dataset on disk that every worker of a run maps into memory, instead of one each.

:func:`share_dataset` writes a :class:`Dataset` once (joblib, uncompressed: each array at an aligned offset
of the file); :func:`open_shared` loads it with its arrays memory-mapped read-only, so N workers on one
machine hold one copy in the page cache (their proportional set sizes split it) rather than N private ones.
Raw rows that are sequences (IMDB's word ranks) are stored as one flat array plus offsets
(:class:`RaggedRows`): as a list of many small arrays, each would be a memory map of its own (and an open
file), and as lists of Python ints each worker would hold hundreds of MB of objects.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, overload

import numpy as np

from automl.datasets._dataset import Dataset

__all__ = ["RaggedRows", "open_shared", "share_dataset"]


class RaggedRows(Sequence[np.ndarray]):
    """Integer sequences of different lengths, stored flat: ``rows[i]`` is
    ``flat[offsets[i] : offsets[i + 1]]``."""

    def __init__(self, flat: np.ndarray, offsets: np.ndarray) -> None:
        self.flat = flat
        self.offsets = offsets

    @classmethod
    def pack(cls, rows: Sequence[Any]) -> RaggedRows:
        arrays = [np.asarray(row).reshape(-1) for row in rows]
        lengths = np.array([len(a) for a in arrays], dtype=np.int64)
        offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        flat = np.concatenate(arrays) if arrays else np.zeros(0, dtype=np.int64)
        if flat.size and flat.dtype.kind in "iu" and flat.min() >= -(2**31) and flat.max() < 2**31:
            flat = flat.astype(np.int32)
        return cls(flat, offsets)

    def __len__(self) -> int:
        return len(self.offsets) - 1

    @overload
    def __getitem__(self, index: int) -> np.ndarray: ...
    @overload
    def __getitem__(self, index: slice) -> list[np.ndarray]: ...
    def __getitem__(self, index: int | slice) -> np.ndarray | list[np.ndarray]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        i = int(index)
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError(f"row {index} of {len(self)}")
        return self.flat[self.offsets[i] : self.offsets[i + 1]]


def _is_sequences(x: Any) -> bool:
    if isinstance(x, list):
        return True
    return isinstance(x, np.ndarray) and x.dtype == object and x.ndim == 1


def share_dataset(dataset: Dataset, path: str | os.PathLike[str]) -> Path:
    """Write ``dataset`` to ``path`` once, for :func:`open_shared` (the fingerprint is computed first and
    stored with it, so no reader hashes the data again). Returns the path."""
    import joblib

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    _ = dataset.fingerprint
    shared = dataset
    if dataset.raw_rows is not None and _is_sequences(dataset.raw_rows[0]):
        shared = dataclasses.replace(
            dataset, raw_rows=(RaggedRows.pack(dataset.raw_rows[0]), dataset.raw_rows[1])
        )
        shared.__dict__["fingerprint"] = dataset.fingerprint
    try:
        joblib.dump(shared, path)
    except BaseException:
        path.unlink(missing_ok=True)  # no half-written file for a worker to map
        raise
    return path


def open_shared(path: str | os.PathLike[str]) -> Dataset:
    """The dataset :func:`share_dataset` wrote, its arrays read-only memory maps of the file."""
    import joblib

    dataset = joblib.load(path, mmap_mode="r")
    if not isinstance(dataset, Dataset):
        raise TypeError(f"{path} holds a {type(dataset).__name__}, not a Dataset")
    return dataset
