"""From RawData to a Dataset: task, seeded split, preprocessing fitted on the training split only."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from automl.datasets._dataset import Dataset
from automl.datasets._preprocess import Preprocessor, target_values
from automl.datasets._raw import RawData
from automl.datasets._split import SPLITS, check_fractions, split_indices
from automl.exceptions import DatasetError
from automl.tasks import Task

__all__ = ["CLASSIFICATION_MAX_INTEGER_CLASSES", "build_dataset", "resolve_task"]

# An integer-valued target with at most this many distinct values reads as class labels; with more, as a
# quantity. Pass `task=` to overrule.
CLASSIFICATION_MAX_INTEGER_CLASSES = 20


def resolve_task(requested: Task | str | None, hint: Task | None, y: np.ndarray) -> tuple[Task, str]:
    """The task for target values ``y`` and a sentence saying how it was decided.

    ``requested`` (the user's, ``"classification"`` allowed) wins over the loader's ``hint``, which wins over
    inference: text or boolean labels → classification; numbers with a fraction → regression; integers →
    classification up to :data:`CLASSIFICATION_MAX_INTEGER_CLASSES` distinct values, else regression.
    Classification is binary with two classes, multiclass with more.

    Raises:
        DatasetError: an unknown task, a target with a single value, ``binary`` with other than two classes,
            or ``regression`` on text.
    """
    n_unique = len(np.unique(y))
    numeric = y.dtype.kind in "iuf"
    if requested is not None and str(getattr(requested, "value", requested)).lower() == "classification":
        requested, how = _classes_task(n_unique), "task='classification' given"
    elif requested is not None:
        requested, how = Task.parse(requested), "given"
    elif hint is not None:
        requested, how = hint, "set by the dataset"
    elif not numeric:
        requested, how = _classes_task(n_unique), "inferred: the target holds labels"
    elif y.dtype.kind == "f" and not np.all(np.mod(y, 1) == 0):
        requested, how = Task.REGRESSION, "inferred: the target holds fractional numbers"
    elif n_unique <= CLASSIFICATION_MAX_INTEGER_CLASSES:
        requested, how = _classes_task(n_unique), f"inferred: {n_unique} distinct integer values"
    else:
        requested, how = Task.REGRESSION, f"inferred: {n_unique} distinct integer values (> 20: a quantity)"
    if n_unique < 2:
        raise DatasetError(f"the target has a single value ({y[0]!r}) in every row: nothing to learn")
    if requested is Task.BINARY and n_unique != 2:
        raise DatasetError(
            f"task='binary' needs 2 classes but the target has {n_unique}; use task='multiclass'"
        )
    if requested is Task.REGRESSION and not numeric:
        raise DatasetError(
            "task='regression' needs a numeric target but it holds text; use task='classification'"
        )
    return requested, how


def _classes_task(n_unique: int) -> Task:
    return Task.BINARY if n_unique == 2 else Task.MULTICLASS


def build_dataset(
    raw: RawData,
    *,
    name: str,
    task: Task | str | None = None,
    seed: int = 0,
    val_fraction: float = 0.2,
    test_fraction: float = 0.2,
    test_origin: str = "official",
    split: str = "random",
) -> Dataset:
    """Split ``raw`` (seeded; stratified for classification), fit preprocessing on train, transform all.

    ``val_fraction`` and ``test_fraction`` are shares of ``raw``'s rows. When ``raw`` carries a test split
    (``test_origin`` says whose: ``"official"``, ``"file"`` or ``"given"``), no test rows are split off
    and ``test_fraction`` is unused; likewise validation rows the user gave (``raw.x_val``) replace
    ``val_fraction``. ``split="ordered"`` keeps the rows' order (see :data:`SPLITS`): what is still cut
    off comes from the end, test last.
    """
    if split not in SPLITS:
        raise DatasetError(f"unknown split {split!r}; use one of: {', '.join(SPLITS)}")
    ordered = split == "ordered"
    check_fractions(val_fraction, test_fraction, has_test=raw.has_test, has_val=raw.has_val)
    info: dict[str, Any] = dict(raw.info)
    y = target_values(raw.y)
    missing = np.asarray(pd.isna(y), dtype=bool)
    if missing.all():
        raise DatasetError(f"dataset {name!r} has no rows with a target value")
    x = raw.x
    if missing.any():
        info["rows_without_target"] = info.get("rows_without_target", 0) + int(missing.sum())
        keep = np.flatnonzero(~missing)
        x, y = take_rows(x, keep), y[keep]
    resolved, how = resolve_task(task, raw.task, y)
    info["task_note"] = how
    labels = y if resolved.is_classification else None
    names = _class_names_by_label(raw, y)
    # The parts still to cut off the main rows, in order: validation, then test.
    cut = [f for f, given in ((val_fraction, raw.has_val), (test_fraction, raw.has_test)) if not given]
    parts = iter(
        split_indices(labels, len(y), fractions=tuple(cut), seed=seed, class_names=names, ordered=ordered)
    )
    train = next(parts)
    where = "last" if ordered else "random"
    if raw.has_val:
        x_val, y_val = raw.x_val, target_values(raw.y_val)
        info["validation_split"] = "given"
    else:
        val = next(parts)
        x_val, y_val = take_rows(x, val), y[val]
        info["validation_split"] = f"{where} {val_fraction:g} of the rows"
    if raw.has_test:
        x_test, y_test = raw.x_test, target_values(raw.y_test)
        info["test_split"] = test_origin
    else:
        test = next(parts)
        x_test, y_test = take_rows(x, test), y[test]
        info["test_split"] = f"{where} {test_fraction:g} of the rows"
    info["split"] = split
    pre = Preprocessor(
        kind=raw.kind,
        task=resolved,
        categorical=raw.categorical,
        drop=raw.drop,
        num_words=raw.num_words,
        class_names=raw.class_names,
    )
    pre.fit(take_rows(x, train), y[train])
    if raw.kind == "table":
        info.update(numeric_columns=list(pre.numeric_), categorical_columns=list(pre.categorical_))
        if pre.dropped_:
            info["dropped_columns"] = dict(pre.dropped_)
    try:
        y_val_encoded = pre.encode_target(y_val)
    except DatasetError as error:
        raise DatasetError(f"validation split of {name!r}: {error}") from None
    try:
        y_test_encoded = pre.encode_target(y_test)
    except DatasetError as error:
        raise DatasetError(f"test split of {name!r}: {error}") from None
    persistence_val = persistence_test = None
    if raw.persistence is not None:
        column = _persistence_column(raw, name, resolved)
        y_train = pre.encode_target(y[train])
        _encode_persistence(pre, x[column], y_train, column, require_known=True)
        persistence_val = _encode_persistence(pre, x_val[column], y_train, column)
        persistence_test = _encode_persistence(pre, x_test[column], y_train, column)
        info["persistence"] = column
    return Dataset(
        name=name,
        task=resolved,
        kind="image" if raw.kind == "image" else "tabular",
        x_train=pre.transform(take_rows(x, train)),
        y_train=pre.encode_target(y[train]),
        x_val=pre.transform(x_val),
        y_val=y_val_encoded,
        x_test=pre.transform(x_test),
        y_test=y_test_encoded,
        n_classes=None if pre.class_names_ is None else len(pre.class_names_),
        class_names=pre.class_names_,
        target=raw.target,
        feature_names=pre.feature_names_out,
        target_mean=pre.target_mean_,
        target_std=pre.target_std_,
        preprocessor=pre,
        input_scale=pre.input_scale_,
        source=raw.source,
        seed=seed,
        info=info,
        persistence_val=persistence_val,
        persistence_test=persistence_test,
        raw_rows=(_join([take_rows(x, train), x_val, x_test]), np.concatenate([y[train], y_val, y_test])),
    )


def _persistence_column(raw: RawData, name: str, task: Task) -> str:
    column = raw.persistence
    assert column is not None
    if raw.kind != "table":
        raise DatasetError(
            f"persistence={column!r}: dataset {name!r} is not a table; leave persistence unset"
        )
    if column == raw.target:
        raise DatasetError(
            f"persistence={column!r} is the target itself; name the column that holds its previous value"
        )
    if column not in raw.x.columns:
        raise DatasetError(
            f"persistence column {column!r} is not in dataset {name!r}; its columns are: "
            f"{', '.join(map(str, raw.x.columns))}"
        )
    if task is Task.REGRESSION and pd.to_numeric(raw.x[column], errors="coerce").isna().all():
        raise DatasetError(f"persistence column {column!r} holds no numbers; it must hold target values")
    return column


def _encode_persistence(
    pre: Preprocessor, values: pd.Series, y_train: np.ndarray, column: str, *, require_known: bool = False
) -> np.ndarray:
    """The last known target value per row, encoded like the target; a missing or unknown value falls back
    to what the mean / majority baseline predicts (the first row of a series has no previous value)."""
    if pre.task is Task.REGRESSION:
        numbers = pd.to_numeric(values, errors="coerce").to_numpy(dtype=np.float64)
        encoded = (numbers - pre.target_mean_) / pre.target_std_
        return np.where(np.isnan(encoded), float(np.mean(y_train)), encoded).astype(np.float32)
    majority = int(np.bincount(y_train).argmax())
    codes: dict[Any, int] = {}
    for value in pd.unique(values):
        if pd.isna(value):
            continue
        try:
            codes[value] = int(pre.encode_target(np.array([value]))[0])
        except (DatasetError, TypeError, ValueError):
            continue  # a label unseen in training
    if require_known and not codes:
        raise DatasetError(f"persistence column {column!r} holds none of the target's labels")
    return np.array([codes.get(v, majority) for v in values], dtype=np.int64)


def _class_names_by_label(raw: RawData, y: np.ndarray) -> dict[Any, str] | None:
    """The loader's class names keyed by label, when they name every label present (for error messages)."""
    labels = np.unique(y)
    if raw.class_names is None or len(raw.class_names) != len(labels):
        return None
    return dict(zip(labels, raw.class_names, strict=True))


def _join(parts: list[Any]) -> Any:
    """Row blocks of one kind (tables, arrays or sequences) as one block, in order."""
    if isinstance(parts[0], pd.DataFrame):
        return pd.concat(parts, ignore_index=True)
    if isinstance(parts[0], np.ndarray):
        return np.concatenate(parts)
    return [row for part in parts for row in part]


def take_rows(x: Any, rows: np.ndarray) -> Any:
    """Rows ``rows`` of ``x``: a DataFrame (re-indexed), an array, or a list (a text column)."""
    if isinstance(x, pd.DataFrame):
        return x.iloc[rows].reset_index(drop=True)
    if isinstance(x, np.ndarray):
        return x[rows]
    return [x[i] for i in rows]
