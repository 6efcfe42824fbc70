"""The Dataset value: preprocessed train / validation / test arrays plus what is needed to undo it."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from automl.tasks import Task

if TYPE_CHECKING:
    from automl.datasets._preprocess import Preprocessor

__all__ = ["Dataset", "InputKind"]

InputKind = Literal["tabular", "image"]


@dataclass(eq=False)
class Dataset:
    """A dataset split three ways and preprocessed with statistics of the training split only.

    ``x_*`` are ``(n, features)`` for tabular data, ``(n, height, width, channels)`` for images; float32,
    or uint8 where the data allows (images read as uint8, multi-hot rows), which the fit casts a batch at a
    time: uint8 images keep their raw 0-255 values and the model divides them by ``input_scale`` (1 for
    every other input). :meth:`float_inputs` gives the float32 values the model computes on.
    ``y_*`` are int64 class labels ``0 … n_classes-1`` for classification and float32 *standardised*
    values for regression (``(y - target_mean) / target_std``; :meth:`to_original_units` undoes it, and
    every reported metric is computed in original units). The test split is for the final evaluation
    only: the search never reads it.

    ``persistence_val`` / ``persistence_test``: where the data has a column holding the target's last
    known value (``load_dataset(..., persistence="sales_yesterday")``), that value for each validation and
    test row, encoded like ``y_*``: the naive "no change" forecast, scored as the ``persistence`` baseline.
    """

    name: str
    task: Task
    kind: InputKind
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    n_classes: int | None = None
    class_names: tuple[str, ...] | None = None
    target: str | None = None
    feature_names: tuple[str, ...] | None = None
    target_mean: float = 0.0
    target_std: float = 1.0
    preprocessor: Preprocessor | None = None
    source: str = ""
    seed: int = 0
    info: dict[str, Any] = field(default_factory=dict)
    persistence_val: np.ndarray | None = None
    persistence_test: np.ndarray | None = None
    #: What the model divides its inputs by (its first layer): 255 for uint8 images, else 1.
    input_scale: float = 1.0
    #: Every row before preprocessing (train, validation, test) and its raw target, for a final fit that
    #: refits the preprocessing on all of them; None for a Dataset built by hand.
    raw_rows: tuple[Any, np.ndarray] | None = field(default=None, repr=False)

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(int(d) for d in self.x_train.shape[1:])

    @property
    def n_outputs(self) -> int:
        """Width of the model's output layer: 1 for binary and regression, ``n_classes`` otherwise."""
        return int(self.n_classes) if self.task is Task.MULTICLASS and self.n_classes else 1

    def to_original_units(self, y: np.ndarray) -> np.ndarray:
        """Regression values back in the target's units (identity for classification)."""
        if self.task is not Task.REGRESSION:
            return np.asarray(y)
        return np.asarray(y, dtype=np.float64) * self.target_std + self.target_mean

    def float_inputs(self, x: np.ndarray) -> np.ndarray:
        """Rows of ``x_*`` as the float32 values the model computes on (compact rows cast and scaled)."""
        if x.dtype == np.float32 and self.input_scale == 1.0:
            return x
        values = np.asarray(x, dtype=np.float32)
        return values / np.float32(self.input_scale) if self.input_scale != 1.0 else values

    def with_float_inputs(self) -> Dataset:
        """This dataset with float32 inputs (``input_scale`` 1): the rows as the model computes on them, as
        every dataset held them before compact inputs."""
        return replace(
            self,
            x_train=self.float_inputs(self.x_train),
            x_val=self.float_inputs(self.x_val),
            x_test=self.float_inputs(self.x_test),
            input_scale=1.0,
        )

    def train_val(self) -> tuple[np.ndarray, np.ndarray]:
        """Train and validation joined, for retraining the winner."""
        return (
            np.concatenate([self.x_train, self.x_val]),
            np.concatenate([self.y_train, self.y_val]),
        )

    def refitted(self, train: tuple[Any, Any], val: tuple[Any, Any], test: tuple[Any, Any]) -> Dataset:
        """This dataset with new splits given as raw ``(x, y)`` rows, preprocessed by a fresh copy of its
        preprocessor fitted on ``train`` alone (a cross-validation fold, a final fit on every row)."""
        assert self.preprocessor is not None, "a Dataset built by hand has no preprocessor to refit"
        pre = self.preprocessor.fresh().fit(*train)
        return replace(
            self,
            x_train=pre.transform(train[0]),
            y_train=pre.encode_target(train[1]),
            x_val=pre.transform(val[0]),
            y_val=pre.encode_target(val[1]),
            x_test=pre.transform(test[0]),
            y_test=pre.encode_target(test[1]),
            target_mean=pre.target_mean_,
            target_std=pre.target_std_,
            preprocessor=pre,
            feature_names=pre.feature_names_out,
            input_scale=pre.input_scale_,
            persistence_val=None,
            persistence_test=None,
        )

    @cached_property
    def fingerprint(self) -> str:
        """A short content hash of the splits: a resumed search must see the same data.

        Features are hashed as the float32 values the model computes on, so compact (uint8) rows hash as
        the float32 rows of earlier versions did, and a run searched before keeps its fingerprint."""
        digest = hashlib.sha256()
        for x, y in ((self.x_train, self.y_train), (self.x_val, self.y_val), (self.x_test, self.y_test)):
            digest.update(str(x.shape).encode())
            step = max(1, 2**24 // max(1, 4 * x[:1].size))  # ~16 MB of float32 at a time
            for start in range(0, len(x), step):
                digest.update(np.ascontiguousarray(self.float_inputs(x[start : start + step])).tobytes())
            digest.update(str(y.shape).encode())
            digest.update(np.ascontiguousarray(y).tobytes())
        return digest.hexdigest()[:16]

    def baselines(self, metric: str | None = None) -> dict[str, float]:
        """Validation scores of simple models: ``majority`` / ``mean`` and ``linear`` (logistic / ridge)."""
        from automl.datasets._baselines import validation_baselines

        return validation_baselines(self, metric)

    def summary(self) -> dict[str, Any]:
        """Plain facts for display: sizes, shapes, task, classes."""
        return {
            "name": self.name,
            "task": self.task.value,
            "kind": self.kind,
            "input_shape": list(self.input_shape),
            "n_train": len(self.x_train),
            "n_val": len(self.x_val),
            "n_test": len(self.x_test),
            "n_classes": self.n_classes,
            "target": self.target,
            "source": self.source,
        }

    def __repr__(self) -> str:
        s = self.summary()
        return (
            f"Dataset(name={s['name']!r}, task={s['task']}, kind={s['kind']}, "
            f"input_shape={tuple(s['input_shape'])}, "
            f"train={s['n_train']}, val={s['n_val']}, test={s['n_test']})"
        )
