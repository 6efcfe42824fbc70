"""Tiny datasets built from scikit-learn's bundled data for the model and training tests (no loader, no network)."""

from __future__ import annotations

import signal

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, load_diabetes, load_digits

from automl.datasets._dataset import Dataset
from automl.tasks import Task


def _standardise(x: np.ndarray, n_train: int) -> np.ndarray:
    mean, std = x[:n_train].mean(axis=0), x[:n_train].std(axis=0) + 1e-8
    return ((x - mean) / std).astype(np.float32)


def _split(name, task, kind, x, y, n_train, n_val, **extra) -> Dataset:
    a, b = n_train, n_train + n_val
    return Dataset(name, task, kind, x[:a], y[:a], x[a:b], y[a:b], x[b:], y[b:], **extra)


@pytest.fixture(scope="session")
def digits() -> Dataset:
    """Multiclass 8x8x1 images: 600 train / 200 validation rows."""
    data = load_digits()
    x = (data.images / 16.0).astype(np.float32)[..., None]
    return _split("digits", Task.MULTICLASS, "image", x, data.target.astype(np.int64), 600, 200, n_classes=10)


@pytest.fixture(scope="session")
def cancer() -> Dataset:
    """Binary tabular data, standardised with training statistics: 350 train / 100 validation rows."""
    data = load_breast_cancer()
    x = _standardise(data.data, 350)
    return _split(
        "breast_cancer", Task.BINARY, "tabular", x, data.target.astype(np.int64), 350, 100, n_classes=2
    )


@pytest.fixture(scope="session")
def diabetes() -> Dataset:
    """Regression with a standardised target: 300 train / 80 validation rows."""
    data = load_diabetes()
    x = _standardise(data.data, 300)
    mean, std = float(data.target[:300].mean()), float(data.target[:300].std())
    y = ((data.target - mean) / std).astype(np.float32)
    return _split("diabetes", Task.REGRESSION, "tabular", x, y, 300, 80, target_mean=mean, target_std=std)


@pytest.fixture
def default_sigint():
    """Python's own SIGINT handler, as under a terminal (a CI runner may start us with SIGINT ignored)."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)
