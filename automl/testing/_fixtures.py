"""Tiny, real inputs for backend tests: a small dataset and a space that exercises every parameter kind."""

from __future__ import annotations

import dataclasses
from functools import lru_cache

import numpy as np

from automl.datasets import Dataset, load_dataset
from automl.space import Bool, Choice, Fixed, Float, Int, SearchSpace

__all__ = ["diverging_dataset", "tiny_dataset", "tiny_space"]


@lru_cache(maxsize=1)
def tiny_dataset() -> Dataset:
    """scikit-learn's wine (178 rows, 13 features, 3 classes), split and preprocessed as usual."""
    return load_dataset("wine", seed=0)


def diverging_dataset() -> Dataset:
    """``tiny_dataset`` with NaN features: every trial's loss is NaN, whatever the config."""
    base = tiny_dataset()
    return dataclasses.replace(base, x_train=np.full_like(base.x_train, np.nan))


def tiny_space(epochs: int = 2) -> SearchSpace:
    """Ints (log and per-layer), floats, choices, a bool, fixed values and two kinds of condition."""
    return SearchSpace(
        name="contract",
        family="mlp",
        parameters=[
            Int("depth", 1, 2),
            Int("units", 8, 32, log=True, per_layer="depth"),
            Choice("activation", ("relu", "tanh")),
            Bool("batch_norm"),
            Float("dropout", 0.0, 0.2),
            Choice("optimizer", ("adam", "sgd")),
            Float("momentum", 0.0, 0.9, active_if=(("optimizer", ("sgd",)),)),
            Float("learning_rate", 1e-3, 1e-1, log=True),
            Choice("batch_size", (32, 64)),
            Fixed("epochs", epochs),
            Fixed("patience", epochs),
        ],
    )
