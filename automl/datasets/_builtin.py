"""Offline built-ins: scikit-learn's bundled datasets and the shipped UCI Auto MPG table."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from automl.datasets._raw import RawData
from automl.tasks import Task

__all__ = ["AUTO_MPG_CSV", "load_auto_mpg", "load_sklearn"]

AUTO_MPG_CSV = "auto_mpg.csv"


def load_sklearn(name: str) -> RawData:
    """One of scikit-learn's bundled datasets (no network): digits as 8x8 images, the others as tables."""
    from sklearn import datasets

    bunch: Any = getattr(datasets, f"load_{name}")()
    if name == "digits":
        return RawData(
            x=np.asarray(bunch.images),
            y=np.asarray(bunch.target, dtype=np.int64),
            kind="image",
            task=Task.MULTICLASS,
            class_names=tuple(str(c) for c in bunch.target_names),
            source="sklearn.datasets.load_digits",
        )
    frame = pd.DataFrame(np.asarray(bunch.data), columns=[str(c) for c in bunch.feature_names])
    regression = name == "diabetes"
    return RawData(
        x=frame,
        y=np.asarray(bunch.target, dtype=np.float64 if regression else np.int64),
        kind="table",
        task=Task.REGRESSION if regression else None,
        target="target",
        class_names=None if regression else tuple(str(c) for c in bunch.target_names),
        source=f"sklearn.datasets.load_{name}",
    )


def auto_mpg_path() -> Path:
    return Path(str(resources.files("automl.datasets") / "data" / AUTO_MPG_CSV))


def load_auto_mpg() -> RawData:
    """UCI Auto MPG (Quinlan 1993, CC BY 4.0), shipped as ``automl/datasets/data/auto_mpg.csv``.

    Target ``mpg`` (regression); ``origin`` is categorical; ``horsepower`` has 6 missing values, imputed with
    the training median; the car ``name`` is an identifier and is not a feature.
    """
    path = auto_mpg_path()
    frame = pd.read_csv(path)
    return RawData(
        x=frame.drop(columns=["mpg"]),
        y=frame["mpg"].to_numpy(dtype=np.float64),
        kind="table",
        target="mpg",
        task=Task.REGRESSION,
        categorical=("origin",),
        drop=("name",),
        source=str(path),
        info={"citation": "UCI Machine Learning Repository, Auto MPG (Quinlan 1993); CC BY 4.0"},
    )
