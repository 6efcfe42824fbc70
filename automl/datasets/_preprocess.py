"""Preprocessing fitted on the training split only, saved beside a model to predict on raw inputs.

A :class:`Preprocessor` turns raw features into the float32 arrays a model sees and raw targets into the
encoded ones it learns, and undoes the target encoding on the way back. It is numpy / pandas /
scikit-learn only: a saved ``model.keras`` plus a saved preprocessor make a predictor on raw inputs.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from automl.exceptions import DatasetError
from automl.tasks import Task

__all__ = ["Preprocessor", "PreprocessorKind", "target_values"]

PreprocessorKind = Literal["table", "image", "sequence"]
_FORMAT = 1
_MISSING = "<missing>"
# A text column with more distinct values than this (and than half the rows) reads as an identifier
# (a name, an id, a free-text note): one-hot encoding it would only let the model memorise rows.
_ID_MIN_UNIQUE = 20


class Preprocessor:
    """Feature and target encoding learned from the training split.

    Kinds of raw input:

    * ``"table"``: a :class:`pandas.DataFrame`. Numeric columns are imputed with the training median and
      standardised; text / categorical columns are one-hot encoded (a value unseen in training encodes as all
      zeros; a missing value is its own category). Columns named in ``drop``, and text columns that look like
      identifiers (more than ``max(20, n_rows / 2)`` distinct values), are ignored; so are extra columns at
      transform time, such as the target.
    * ``"image"``: an array ``(n, h, w)`` or ``(n, h, w, c)``; grey images get a channel axis. Images fitted
      as uint8 stay uint8 (4x smaller than float32): the model divides by :attr:`input_scale_` (its first
      layer), so a batch is cast to float only when it is trained on. Other images are divided here by the
      largest value seen in training (when it exceeds 1) and become float32.
    * ``"sequence"``: a sequence of integer sequences (word ranks, 1 = most frequent); encoded as a uint8
      multi-hot ``(n, num_words)`` matrix whose column ``j`` is the word of rank ``j + 1``.

    Tables stay float32: standardised values need a float. A preprocessor saved before compact inputs (it
    has no ``compact_``) transforms as it did, into float32 already scaled, for the model saved with it.

    Targets: classification labels map to ``0 … k-1`` in sorted order of the training labels;
    regression values are standardised with the training mean and standard deviation.

    Construct with the settings, then :meth:`fit` on training data; learned state ends in ``_``.
    """

    def __init__(
        self,
        *,
        kind: PreprocessorKind,
        task: Task,
        categorical: Sequence[str] | None = None,
        drop: Sequence[str] = (),
        num_words: int = 10_000,
        class_names: Sequence[str] | None = None,
    ) -> None:
        self.kind = kind
        self.task = task
        self.categorical = None if categorical is None else tuple(categorical)
        self.drop = tuple(drop)
        self.num_words = int(num_words)
        self.class_names = None if class_names is None else tuple(class_names)
        self.format_version = _FORMAT
        self.feature_names_: tuple[str, ...] | None = None
        self.compact_ = False

    def fresh(self) -> Preprocessor:
        """A new, unfitted preprocessor with these settings (to fit on other rows: a fold, every row)."""
        return Preprocessor(
            kind=self.kind,
            task=self.task,
            categorical=self.categorical,
            drop=self.drop,
            num_words=self.num_words,
            class_names=self.class_names,
        )

    # ------------------------------------------------------------------ fitting
    def fit(self, x: Any, y: Any) -> Preprocessor:
        """Learn feature statistics and the target encoding from the training split; returns ``self``."""
        self.compact_ = False
        if self.kind == "table":
            self._fit_table(_as_frame(x))
        elif self.kind == "image":
            self._fit_image(np.asarray(x))
        else:
            self.feature_names_ = tuple(f"word_{j + 1}" for j in range(self.num_words))
            self.compact_ = True
        self._fit_target(y)
        return self

    def _fit_table(self, frame: pd.DataFrame) -> None:
        from sklearn.compose import ColumnTransformer
        from sklearn.impute import SimpleImputer
        from sklearn.pipeline import Pipeline
        from sklearn.preprocessing import OneHotEncoder, StandardScaler

        unknown = [c for c in (*self.drop, *(self.categorical or ())) if c not in frame.columns]
        if unknown:
            raise DatasetError(
                f"unknown column(s) {unknown} in drop/categorical; columns: {list(frame.columns)}"
            )
        dropped = {c: "asked" for c in self.drop}
        if self.categorical is not None:
            categorical = [c for c in self.categorical if c not in dropped]
        else:
            categorical = [c for c in frame.columns if c not in dropped and not _is_numeric(frame[c])]
        for column in categorical:
            n_unique = frame[column].nunique()
            if self.categorical is None and n_unique > max(_ID_MIN_UNIQUE, len(frame) / 2):
                dropped[column] = f"identifier-like text ({n_unique} distinct values)"
        categorical = [c for c in categorical if c not in dropped]
        numeric = [c for c in frame.columns if c not in dropped and c not in categorical]
        self.numeric_ = tuple(str(c) for c in numeric)
        self.categorical_ = tuple(str(c) for c in categorical)
        self.dropped_ = dropped
        if not numeric and not categorical:
            raise DatasetError(f"no feature columns left after dropping {list(dropped)}; keep at least one")
        numeric_steps = Pipeline(
            [
                ("impute", SimpleImputer(strategy="median", keep_empty_features=True)),
                ("scale", StandardScaler()),
            ]
        )
        encoder = OneHotEncoder(handle_unknown="ignore", sparse_output=False, dtype=np.float32)
        self.columns_ = ColumnTransformer(
            [
                ("numeric", numeric_steps, list(self.numeric_)),
                ("categorical", encoder, list(self.categorical_)),
            ],
            remainder="drop",
            verbose_feature_names_out=False,
        )
        self.columns_.fit(self._prepare_table(frame))
        self.feature_names_ = tuple(str(n) for n in self.columns_.get_feature_names_out())

    def _fit_image(self, images: np.ndarray) -> None:
        images = _with_channel_axis(images)
        peak = float(np.nanmax(images)) if images.size else 1.0
        # Images already in [0, 1] stay as they are; otherwise the training maximum (255, 16, …) maps to 1.
        self.scale_ = peak if peak > 1.0 else 1.0
        self.image_shape_ = tuple(int(d) for d in images.shape[1:])
        self.feature_names_ = None
        self.compact_ = images.dtype == np.uint8

    @property
    def input_scale_(self) -> float:
        """What the model divides its inputs by: the training maximum for compact (uint8) images, else 1."""
        return float(self.scale_) if self.kind == "image" and getattr(self, "compact_", False) else 1.0

    def _fit_target(self, y: Any) -> None:
        values = target_values(y)
        if self.task is Task.REGRESSION:
            numbers = _numeric_target(values)
            self.target_mean_ = float(np.mean(numbers))
            std = float(np.std(numbers))
            self.target_std_ = std if std > 0 and math.isfinite(std) else 1.0
            self.classes_ = None
            self.class_names_ = None
            return
        self.target_mean_, self.target_std_ = 0.0, 1.0
        self.classes_ = np.unique(values)
        if self.class_names is not None and len(self.class_names) == len(self.classes_):
            self.class_names_ = tuple(self.class_names)
        else:
            self.class_names_ = tuple(_label_text(v) for v in self.classes_)

    # ---------------------------------------------------------------- transforms
    def transform(self, x: Any) -> np.ndarray:
        """Raw features (same kind as in :meth:`fit`) → model inputs: float32, or uint8 where compact (images
        fitted as uint8 and given as uint8, unscaled; multi-hot rows). Compact images given in another dtype
        come back as float32 values on the training scale (0-255), which the model divides likewise.

        Raises:
            DatasetError: a column the model needs is absent, a numeric column holds text, or images have
                another shape than in training.
        """
        if self.kind == "table":
            encoded = self.columns_.transform(self._prepare_table(_as_frame(x)))
            return np.asarray(encoded, dtype=np.float32)
        if self.kind == "image":
            images = _with_channel_axis(np.asarray(x))
            if tuple(images.shape[1:]) != self.image_shape_:
                raise DatasetError(
                    f"images have shape {tuple(images.shape[1:])}, "
                    f"but the preprocessor was fitted on {self.image_shape_}"
                )
            if getattr(self, "compact_", False):
                return images if images.dtype == np.uint8 else images.astype(np.float32)
            return (images.astype(np.float32) / np.float32(self.scale_)).astype(np.float32)
        dtype = np.uint8 if getattr(self, "compact_", False) else np.float32
        return _multi_hot(x, self.num_words, dtype)

    def _prepare_table(self, frame: pd.DataFrame) -> pd.DataFrame:
        needed = [*self.numeric_, *self.categorical_]
        absent = [c for c in needed if c not in frame.columns]
        if absent:
            raise DatasetError(f"missing column(s) {absent}; the preprocessor was fitted on {needed}")
        out = pd.DataFrame(index=frame.index)
        for column in self.numeric_:
            try:
                out[column] = pd.to_numeric(frame[column], errors="raise").astype(np.float64)
            except (TypeError, ValueError) as error:
                raise DatasetError(f"column {column!r} should be numeric but holds text: {error}") from None
        for column in self.categorical_:
            out[column] = np.array([_category_text(v) for v in frame[column]], dtype=object)
        return out

    def encode_target(self, y: Any) -> np.ndarray:
        """Raw targets → int64 labels ``0 … k-1`` or standardised float32 values.

        Raises:
            DatasetError: a label never seen in training, or a non-numeric regression target.
        """
        values = target_values(y)
        if self.task is Task.REGRESSION:
            return ((_numeric_target(values) - self.target_mean_) / self.target_std_).astype(np.float32)
        assert self.classes_ is not None
        positions = np.searchsorted(self.classes_, values)
        positions = np.clip(positions, 0, len(self.classes_) - 1)
        unseen = values != self.classes_[positions]
        if np.any(unseen):
            labels = sorted({_label_text(v) for v in values[unseen]})[:5]
            raise DatasetError(
                f"label(s) {labels} never occur in the training split "
                f"(classes: {list(self.class_names_ or ())}); drop those rows or add them to training"
            )
        return positions.astype(np.int64)

    def inverse_target(self, y_std: np.ndarray) -> np.ndarray:
        """Standardised regression values → original units (float64); identity for classification."""
        if self.task is not Task.REGRESSION:
            return np.asarray(y_std)
        return np.asarray(y_std, dtype=np.float64) * self.target_std_ + self.target_mean_

    def decode_labels(self, labels: np.ndarray) -> np.ndarray:
        """Integer labels ``0 … k-1`` → the original label values of the training data."""
        if self.classes_ is None:
            raise DatasetError("decode_labels applies to classification; this preprocessor is for regression")
        return self.classes_[np.asarray(labels, dtype=np.int64)]

    @property
    def feature_names_out(self) -> tuple[str, ...] | None:
        """Names of the model's input columns (tables and sequences), ``None`` for images."""
        return self.feature_names_

    # -------------------------------------------------------------- persistence
    def save(self, path: str | Path) -> Path:
        """Write the fitted preprocessor (joblib). Load only files you trust: joblib files are pickles."""
        import joblib

        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        joblib.dump({"automl_preprocessor": _FORMAT, "preprocessor": self}, path)
        return path

    @classmethod
    def load(cls, path: str | Path) -> Preprocessor:
        """Read a preprocessor written by :meth:`save`.

        Raises:
            DatasetError: the file is absent or is not an automl preprocessor.
        """
        import joblib

        path = Path(path)
        if not path.is_file():
            raise DatasetError(f"no preprocessor file at {path}")
        content = joblib.load(path)
        if not isinstance(content, dict) or content.get("automl_preprocessor") != _FORMAT:
            raise DatasetError(f"{path} is not an automl preprocessor (format {_FORMAT})")
        preprocessor = content["preprocessor"]
        if not isinstance(preprocessor, cls):
            raise DatasetError(f"{path} holds a {type(preprocessor).__name__}, not a Preprocessor")
        return preprocessor

    def __repr__(self) -> str:
        return f"Preprocessor(kind={self.kind!r}, task={self.task.value})"


def _as_frame(x: Any) -> pd.DataFrame:
    if isinstance(x, pd.DataFrame):
        return x
    array = np.asarray(x)
    if array.ndim != 2:
        raise DatasetError(f"tabular input must be a DataFrame or a 2-D array, got shape {array.shape}")
    return pd.DataFrame(array, columns=[f"x{j}" for j in range(array.shape[1])])


def _is_numeric(column: pd.Series) -> bool:
    return bool(pd.api.types.is_numeric_dtype(column.dtype) or pd.api.types.is_bool_dtype(column.dtype))


def _category_text(value: Any) -> str:
    """One spelling per category, so 1, 1.0 and "1" are the same value and every missing value is one."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return _MISSING
    return _label_text(value)


def _label_text(value: Any) -> str:
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    return str(value)


def target_values(y: Any) -> np.ndarray:
    """Targets as a 1-D array: numbers stay numbers; text, booleans and mixed labels become strings."""
    values = np.asarray(y.to_numpy() if isinstance(y, pd.Series) else y)
    if values.ndim == 2 and values.shape[1] == 1:
        values = values.reshape(-1)
    if values.ndim != 1:
        raise DatasetError(f"the target must be one value per row, got shape {values.shape}")
    if values.dtype.kind in "OUSTb":
        # Text labels (and mixed ones) compare as strings, so sorting and lookup are well defined.
        return np.array([None if pd.isna(v) else _label_text(v) for v in values], dtype=object)
    return values


def _numeric_target(values: np.ndarray) -> np.ndarray:
    try:
        return np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise DatasetError(
            "a regression target must be numeric, but it holds text; use task='classification' "
            "or convert the column"
        ) from None


def _with_channel_axis(images: np.ndarray) -> np.ndarray:
    if images.ndim == 3:
        return images[..., np.newaxis]
    if images.ndim != 4:
        raise DatasetError(f"images must have shape (n, h, w) or (n, h, w, c), got {images.shape}")
    return images


def _multi_hot(sequences: Any, num_words: int, dtype: Any = np.uint8) -> np.ndarray:
    out = np.zeros((len(sequences), num_words), dtype=dtype)
    for row, sequence in enumerate(sequences):
        ranks = np.asarray(sequence, dtype=np.int64) - 1
        out[row, ranks[(ranks >= 0) & (ranks < num_words)]] = 1.0
    return out
