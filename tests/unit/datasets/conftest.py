"""Small data files in the real formats, written into a temporary folder per test."""

from __future__ import annotations

import gzip
import io
import pickle
import tarfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty dataset cache; $AUTOML_CACHE points at it so no test touches the user's cache."""
    root = tmp_path / "cache"
    monkeypatch.setenv("AUTOML_CACHE", str(root))
    return root


@pytest.fixture
def houses_csv(tmp_path: Path) -> Path:
    """A regression table with a categorical column, missing values and an id column."""
    rng = np.random.default_rng(0)
    n = 120
    area = rng.uniform(50, 200, n)
    city = rng.choice(["lyon", "paris", "nantes"], n)
    rooms = rng.integers(1, 6, n).astype(float)
    rooms[[3, 17, 40]] = np.nan
    city = city.astype(object)
    city[[5, 9]] = None
    price = 1000 * area + 20000 * (city == "paris") + rng.normal(0, 5000, n)
    frame = pd.DataFrame(
        {"id": [f"house-{i}" for i in range(n)], "area": area, "city": city, "rooms": rooms, "price": price}
    )
    path = tmp_path / "houses.csv"
    frame.to_csv(path, index=False)
    return path


def _write_idx(path: Path, array: np.ndarray) -> None:
    """Gzipped IDX as published by MNIST / Fashion-MNIST: magic (0, 0, type, rank), sizes, bytes."""
    header = bytes([0, 0, 0x08, array.ndim]) + np.asarray(array.shape, dtype=">u4").tobytes()
    with gzip.open(path, "wb") as out:
        out.write(header + array.astype(np.uint8).tobytes())


def _write_cifar(path: Path, n_per_batch: int = 6, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A CIFAR-10 python tarball with tiny batches; returns the (n, 32, 32, 3) test images and labels."""
    rng = np.random.default_rng(seed)
    path.parent.mkdir(parents=True, exist_ok=True)

    def batch() -> dict[bytes, object]:
        labels = [int(i % 10) for i in range(n_per_batch)]
        data = rng.integers(0, 256, (n_per_batch, 3072), dtype=np.uint8)
        return {b"batch_label": b"x", b"labels": labels, b"data": data, b"filenames": [b"f"] * n_per_batch}

    members = {f"data_batch_{i}": batch() for i in range(1, 6)}
    members["test_batch"] = batch()
    names = [
        b"airplane",
        b"automobile",
        b"bird",
        b"cat",
        b"deer",
        b"dog",
        b"frog",
        b"horse",
        b"ship",
        b"truck",
    ]
    members["batches.meta"] = {b"label_names": names, b"num_vis": 3072}
    with tarfile.open(path, "w:gz") as archive:
        for name, content in members.items():
            payload = pickle.dumps(content, protocol=2)
            info = tarfile.TarInfo(f"cifar-10-batches-py/{name}")
            info.size = len(payload)
            archive.addfile(info, io.BytesIO(payload))
    test = members["test_batch"]
    images = np.asarray(test[b"data"]).reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)  # type: ignore[call-overload]
    return images, np.asarray(test[b"labels"])


def _write_imdb(path: Path, n: int = 20, seed: int = 0) -> None:
    """imdb.npz as keras publishes it: ragged object arrays of word ranks, 0/1 labels."""
    rng = np.random.default_rng(seed)
    path.parent.mkdir(parents=True, exist_ok=True)

    def reviews() -> np.ndarray:
        out = np.empty(n, dtype=object)
        for i in range(n):
            out[i] = [int(r) for r in rng.integers(1, 30, rng.integers(3, 12))]
        return out

    labels = np.arange(n) % 2
    np.savez(path, x_train=reviews(), y_train=labels, x_test=reviews(), y_test=labels)


# The writers as fixtures, so test modules need no import from this file.
@pytest.fixture
def write_idx():
    return _write_idx


@pytest.fixture
def write_cifar():
    return _write_cifar


@pytest.fixture
def write_imdb():
    return _write_imdb
