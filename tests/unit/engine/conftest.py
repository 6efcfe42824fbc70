"""The fast tier: the real engine, backends and Optuna storage, with a stub trainer instead of Keras."""

from __future__ import annotations

from pathlib import Path

import pytest

from automl.datasets import Dataset, load_dataset


@pytest.fixture(scope="session")
def iris() -> Dataset:
    return load_dataset("iris", seed=0)


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'automl.db'}"
