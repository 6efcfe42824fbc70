"""load_dataset: a name, a file or a URL → a split, preprocessed :class:`Dataset`."""

from __future__ import annotations

import os
import urllib.parse
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from automl.datasets._build import build_dataset
from automl.datasets._dataset import Dataset
from automl.datasets._download import cache_root, fetch, is_url, url_cache_path
from automl.datasets._files import SUPPORTED_EXTENSIONS, file_format, read_file, read_test_file
from automl.datasets._raw import RawData, arrays_to_raw, frame_to_raw
from automl.datasets._registry import get_entry, list_datasets
from automl.datasets._split import check_fractions
from automl.exceptions import DatasetError
from automl.tasks import Task

__all__ = ["from_arrays", "from_frame", "load_dataset"]


def load_dataset(
    name_or_path: str | os.PathLike[str],
    *,
    target: str | None = None,
    task: Task | str | None = None,
    seed: int = 0,
    val_fraction: float = 0.2,
    test_fraction: float = 0.2,
    test: str | os.PathLike[str] | None = None,
    validation: str | os.PathLike[str] | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    name: str | None = None,
    persistence: str | None = None,
    split: str = "random",
) -> Dataset:
    """Load a dataset by registered name, file path or URL, split it and preprocess it.

    Args:
        name_or_path: a name from :func:`list_datasets`; a ``.csv``/``.tsv`` (optionally ``.gz``),
            ``.parquet`` or ``.npz`` file; or a URL of such a file (downloaded once into the cache).
        target: the target column of a table; default the last column (``info["target_note"]`` says so).
        task: ``"binary"``, ``"multiclass"``, ``"regression"`` or ``"classification"`` (binary or
            multiclass by the number of classes); default inferred (see :func:`resolve_task`).
        seed: seeds the split; the same seed gives the same split.
        val_fraction, test_fraction: shares of the rows held out for validation and test. Classification
            splits are stratified, and every class needs a row in each split.
        test: a file of the same format with the test rows; then only validation is split off the main data.
            Datasets with an official test split (mnist, fashion_mnist, cifar10, imdb, NPZ files with
            ``x_test``) keep it, and ``test_fraction`` is unused.
        validation: a file of the same format with the validation rows; then none are split off the main
            data and ``val_fraction`` is unused. Preprocessing is fitted on the training rows alone.
        cache_dir: where downloads are cached; default ``$AUTOML_CACHE``, else ``~/.cache/automl``.
        name: the dataset's name; default the registered name, or the file's stem.
        persistence: a feature column holding the target's last known value (yesterday's sales beside
            today's): adds the ``persistence`` baseline, which predicts that value.
        split: ``"random"`` (seeded; stratified for classification) or ``"ordered"``: the rows in file
            order, training first, then validation, then test, for data in time order.

    Returns:
        A :class:`Dataset` whose preprocessing (``dataset.preprocessor``) was fitted on the training split.

    Raises:
        DatasetError: one line naming what is wrong and the fix (unknown name, missing file, target or
            rows, a class too small to split, bad fractions, unreadable format, a failed download).
    """
    # Check what can be checked before a possibly long download; the test fraction is checked once it is
    # known whether the data brings its own test split.
    check_fractions(val_fraction, test_fraction, has_test=True)
    raw, default_name = _resolve(name_or_path, target=target, cache_dir=cache_dir)
    origin = "official"
    if test is not None:
        if raw.has_test:
            raise DatasetError(
                f"dataset {default_name!r} has its own official test split; drop test= (or the test file)"
            )
        raw.x_test, raw.y_test = read_test_file(test, raw)
        raw.info["test_file"] = str(test)
        origin = "file"
    if validation is not None:
        raw.x_val, raw.y_val = read_test_file(validation, raw, "validation")
        raw.info["validation_file"] = str(validation)
    raw.persistence = persistence
    return build_dataset(
        raw,
        name=name or default_name,
        task=task,
        seed=seed,
        val_fraction=val_fraction,
        test_fraction=test_fraction,
        test_origin=origin,
        split=split,
    )


def from_frame(
    frame: pd.DataFrame,
    *,
    target: str | None = None,
    name: str = "frame",
    task: Task | str | None = None,
    seed: int = 0,
    val_fraction: float = 0.2,
    test_fraction: float = 0.2,
    persistence: str | None = None,
    split: str = "random",
    validation: pd.DataFrame | None = None,
    test: pd.DataFrame | None = None,
) -> Dataset:
    """A :class:`Dataset` from an in-memory table, as :func:`load_dataset` would make it from a CSV file;
    ``validation`` and ``test`` are tables of the same columns holding those splits' rows."""
    raw = frame_to_raw(frame, target, where=f"DataFrame {name!r}")
    raw.source = "DataFrame"
    raw.persistence = persistence
    if validation is not None:
        given = frame_to_raw(validation, raw.target, where=f"validation DataFrame of {name!r}")
        raw.x_val, raw.y_val = given.x, given.y
    if test is not None:
        given = frame_to_raw(test, raw.target, where=f"test DataFrame of {name!r}")
        raw.x_test, raw.y_test = given.x, given.y
    return build_dataset(
        raw,
        name=name,
        task=task,
        seed=seed,
        val_fraction=val_fraction,
        test_fraction=test_fraction,
        test_origin="given",
        split=split,
    )


def from_arrays(
    x: Any,
    y: Any,
    *,
    x_test: Any = None,
    y_test: Any = None,
    x_val: Any = None,
    y_val: Any = None,
    name: str = "arrays",
    task: Task | str | None = None,
    seed: int = 0,
    val_fraction: float = 0.2,
    test_fraction: float = 0.2,
) -> Dataset:
    """A :class:`Dataset` from arrays: ``x`` of rank 2 is a table, of rank 3-4 images (as an NPZ file);
    ``x_val``/``y_val`` and ``x_test``/``y_test`` the rows of those splits, when the user has them."""
    raw = arrays_to_raw(x, y, x_test, y_test, where=f"arrays {name!r}")
    if (x_val is None) != (y_val is None):
        raise DatasetError(f"arrays {name!r}: give both x_val and y_val, or neither")
    if x_val is not None:
        given = arrays_to_raw(x_val, y_val, where=f"validation arrays of {name!r}")
        if given.kind != raw.kind or np.asarray(x_val).shape[1:] != np.asarray(x).shape[1:]:
            raise DatasetError(
                f"validation arrays of {name!r}: x_val {np.asarray(x_val).shape} does not match x "
                f"{np.asarray(x).shape}"
            )
        raw.x_val, raw.y_val = given.x, given.y
    return build_dataset(
        raw, name=name, task=task, seed=seed, val_fraction=val_fraction, test_fraction=test_fraction,
        test_origin="given",
    )  # fmt: skip


def _resolve(source: str | os.PathLike[str], *, target: str | None, cache_dir: Any) -> tuple[RawData, str]:
    """The raw data behind a name, path or URL, and the dataset's default name."""
    if isinstance(source, os.PathLike):
        return read_file(source, target), _stem(Path(source).name)
    if not isinstance(source, str) or not source:
        raise DatasetError(f"a dataset is a name, a path or a URL; got {source!r}")
    if is_url(source):
        file_name = Path(urllib.parse.urlparse(source).path).name
        if file_format(file_name) is None:
            raise DatasetError(
                f"cannot tell the format of {source}: its file name should end in one of "
                f"{', '.join(SUPPORTED_EXTENSIONS)}"
            )
        path = fetch(source, url_cache_path(source, cache_dir))
        raw = read_file(path, target)
        raw.source = source
        return raw, _stem(file_name)
    entry = get_entry(source)
    if entry is not None:
        raw = entry.load(cache_root(cache_dir))
        if target is not None and raw.target is not None and target != raw.target:
            raise DatasetError(f"dataset {source!r} has the fixed target {raw.target!r}; leave target= unset")
        if raw.task is None:
            raw.task = entry.info.task
        raw.info.setdefault("description", entry.info.description)
        return raw, source
    if file_format(source) is not None or os.sep in source or "/" in source or Path(source).exists():
        return read_file(source, target), _stem(Path(source).name)
    known = ", ".join(info.name for info in list_datasets())
    raise DatasetError(
        f"unknown dataset {source!r}; known datasets: {known}; or give the path of a "
        f"{'/'.join(SUPPORTED_EXTENSIONS)} file"
    )


def _stem(file_name: str) -> str:
    lower = file_name.lower()
    for extension in sorted(SUPPORTED_EXTENSIONS, key=len, reverse=True):
        if lower.endswith(extension):
            return file_name[: -len(extension)]
    return Path(file_name).stem
