"""The mid-size cases of ``benchmarks/quality.py``: data the ``compact`` default was not chosen on (#30).

Each case is written once, from a fixed seed, as a file in the dataset cache (``$AUTOML_CACHE``, else
``~/.cache/automl``, under ``quality-cases/``) and loaded from there by ``automl.load_dataset(path)``, as a
user loads their own CSV or NPZ file: the same type inference, split and preprocessing.

============================  ======  =========  =============================  ==============================
case                          rows    features   target                         source
============================  ======  =========  =============================  ==============================
``multiclass_noisy``          5,000   40         8 classes, 10 % labels random  ``make_classification``
``imbalanced``                8,000   24         binary, 5 % positive           ``make_classification``
``interactions``              5,000   20         regression, noise sd 1.0       Friedman #1 + two products
``fair``                      6,366   8          binary, 32 % positive          statsmodels ``fair`` (real)
``fashion_like_10k``          10,000  28x28      10 balanced classes            ``automl`` ``fashion_like``
============================  ======  =========  =============================  ==============================

``fair`` (Fair 1978, affairs survey of 6,366 married women) needs statsmodels, which is not an automl
dependency: ``pip install -e '.[bench]'`` (the ``bench`` extra) or ``pip install statsmodels``; it ships the
table, nothing is downloaded. Its target is whether ``affairs`` > 0; the ``affairs`` column is dropped. The
generators' seed is fixed (``SEED``); a file's name carries its version, so a changed generator writes a new
file instead of reading an old one. The table's classes and balance are of the whole file; the splits are
stratified.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import automl
from automl.datasets import cache_root
from automl.exceptions import MissingDependency

SEED = 30  # issue #30; every case's data, whatever the benchmark's split or search seed
SMALL = ("digits", "wine", "breast_cancer", "diabetes", "auto_mpg")  # the tables `compact` was chosen on


def multiclass_noisy(seed: int = SEED) -> pd.DataFrame:
    """5,000 rows, 40 features (12 informative, 8 redundant), 8 classes of 2 clusters each; 10 % of labels
    are drawn at random (``flip_y``), so about 8.75 % are wrong."""
    from sklearn.datasets import make_classification

    x, y = make_classification(
        n_samples=5000, n_features=40, n_informative=12, n_redundant=8, n_classes=8,
        n_clusters_per_class=2, class_sep=1.0, flip_y=0.10, random_state=seed,
    )  # fmt: skip
    return _table(x, y, "label")


def imbalanced(seed: int = SEED) -> pd.DataFrame:
    """8,000 rows, 24 features (8 informative, 6 redundant), 5 % positive (400 rows), 1 % of labels at
    random."""
    from sklearn.datasets import make_classification

    x, y = make_classification(
        n_samples=8000, n_features=24, n_informative=8, n_redundant=6, n_classes=2,
        weights=[0.95], class_sep=0.8, flip_y=0.01, random_state=seed,
    )  # fmt: skip
    return _table(x, y, "label")


def interactions(seed: int = SEED) -> pd.DataFrame:
    """5,000 rows, 20 features uniform on [0, 1]: Friedman #1 on x0-x4 (``10 sin(pi x0 x1) + 20 (x2 - 0.5)^2
    + 10 x3 + 5 x4``) plus ``12 x5 x6 - 9 x7 x8``, noise sd 1.0; x9-x19 carry nothing."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(size=(5000, 20))
    y = (
        10 * np.sin(np.pi * x[:, 0] * x[:, 1])
        + 20 * (x[:, 2] - 0.5) ** 2
        + 10 * x[:, 3]
        + 5 * x[:, 4]
        + 12 * x[:, 5] * x[:, 6]
        - 9 * x[:, 7] * x[:, 8]
        + rng.normal(0.0, 1.0, size=5000)
    )
    return _table(x, y, "y")


def fair(seed: int = SEED) -> pd.DataFrame:
    """statsmodels' ``fair`` table (6,366 rows, 8 features as it ships them), target ``affair`` =
    ``affairs > 0``. ``seed`` is unused: the table is real."""
    try:
        from statsmodels.datasets import fair as bundled
    except ImportError:
        raise MissingDependency(
            "the quality benchmark's case 'fair' needs statsmodels: pip install -e '.[bench]' (or pip "
            "install statsmodels)"
        ) from None
    frame = bundled.load_pandas().data
    return frame.drop(columns=["affairs"]).assign(affair=(frame["affairs"] > 0).astype(np.int64))


def fashion_like_10k(seed: int = SEED) -> dict[str, np.ndarray]:
    """10,000 Fashion-MNIST-like 28x28 grey images of 10 balanced classes (:func:`automl.datasets._synthetic
    .fashion_like`), as the arrays ``x`` and ``y`` of an NPZ file: the benchmark splits them like a table."""
    from automl.datasets._synthetic import fashion_like

    x, y, _, _ = fashion_like(10_000, 0, seed=seed)
    return {"x": x, "y": y}


def _table(x: np.ndarray, y: np.ndarray, target: str) -> pd.DataFrame:
    frame = pd.DataFrame(x, columns=[f"x{i}" for i in range(x.shape[1])])
    frame[target] = y
    return frame


@dataclass(frozen=True)
class Case:
    """One mid-size case: its generator, the target column, and the version in its file name."""

    make: Callable[[int], Any]  # a DataFrame (a CSV file) or arrays x, y (an NPZ file)
    target: str | None
    version: int = 1

    def file_name(self, name: str) -> str:
        suffix = "npz" if self.target is None else "csv"
        return f"{name}-v{self.version}-seed{SEED}.{suffix}"


CASES: dict[str, Case] = {
    "multiclass_noisy": Case(multiclass_noisy, "label"),
    "imbalanced": Case(imbalanced, "label"),
    "interactions": Case(interactions, "y"),
    "fair": Case(fair, "affair"),
    "fashion_like_10k": Case(fashion_like_10k, None),
}
SETS = {"small": SMALL, "midsize": tuple(CASES), "wide": SMALL + tuple(CASES)}


def case_file(name: str, cache_dir: str | os.PathLike[str] | None = None) -> Path:
    """The case's data file in the cache, written first if it is not there (atomically: a half-written file
    is never read)."""
    case = CASES[name]
    folder = cache_root(cache_dir) / "quality-cases"
    path = folder / case.file_name(name)
    if path.exists():
        return path
    folder.mkdir(parents=True, exist_ok=True)
    data = case.make(SEED)
    handle, temporary = tempfile.mkstemp(dir=folder, suffix=path.suffix)
    os.close(handle)
    try:
        if isinstance(data, pd.DataFrame):
            data.to_csv(temporary, index=False, float_format="%.6g")
        else:
            np.savez_compressed(temporary, **data)
        os.replace(temporary, path)
    finally:
        Path(temporary).unlink(missing_ok=True)
    return path


def load_case(name: str, seed: int, cache_dir: str | os.PathLike[str] | None = None) -> automl.Dataset:
    """The benchmark's dataset ``name`` split with ``seed``: a mid-size case from its file, anything else by
    ``automl.load_dataset(name)`` (the built-ins)."""
    if name not in CASES:
        return automl.load_dataset(name, seed=seed)
    path = case_file(name, cache_dir)
    return automl.load_dataset(path, target=CASES[name].target, name=name, seed=seed)
