"""The keras.datasets loaders, read from tiny files in the real formats placed in a temporary cache."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

from automl.datasets import load_dataset
from automl.datasets._download import fetch, url_cache_path
from automl.datasets._remote import FASHION_FILES, read_idx, read_npz_arrays
from automl.exceptions import DatasetError
from automl.tasks import Task


def test_mnist_from_the_cache(cache: Path) -> None:
    rng = np.random.default_rng(0)
    folder = cache / "datasets" / "mnist"
    folder.mkdir(parents=True)
    x_test = rng.integers(0, 256, (10, 28, 28), dtype=np.uint8)
    np.savez(
        folder / "mnist.npz",
        x_train=rng.integers(0, 256, (50, 28, 28), dtype=np.uint8),
        y_train=np.arange(50) % 10,
        x_test=x_test,
        y_test=np.arange(10),
    )
    ds = load_dataset("mnist", val_fraction=0.2)
    assert (ds.task, ds.kind, ds.input_shape) == (Task.MULTICLASS, "image", (28, 28, 1))
    assert (len(ds.x_train), len(ds.x_val), len(ds.x_test)) == (40, 10, 10)
    assert ds.info["test_split"] == "official"
    # The official test split is kept in order, as uint8; the model divides by the training maximum.
    assert ds.x_test.dtype == np.uint8 and ds.input_scale == ds.preprocessor.scale_
    np.testing.assert_array_equal(ds.x_test[..., 0], x_test)
    np.testing.assert_allclose(ds.float_inputs(ds.x_test)[..., 0], x_test / ds.preprocessor.scale_, rtol=1e-6)
    np.testing.assert_array_equal(ds.y_test, np.arange(10))


def test_fashion_mnist_reads_gzipped_idx_files(tmp_path: Path, write_idx) -> None:
    rng = np.random.default_rng(1)
    folder = tmp_path / "datasets" / "fashion_mnist"
    folder.mkdir(parents=True)
    arrays = [
        rng.integers(0, 256, (30, 28, 28)),
        np.arange(30) % 10,
        rng.integers(0, 256, (10, 28, 28)),
        np.arange(10),
    ]
    for name, array in zip(FASHION_FILES, arrays, strict=True):
        write_idx(folder / name, array)
    np.testing.assert_array_equal(read_idx(folder / FASHION_FILES[0]), arrays[0])
    ds = load_dataset("fashion_mnist", cache_dir=tmp_path)
    assert ds.input_shape == (28, 28, 1) and len(ds.x_test) == 10
    assert ds.class_names[0] == "T-shirt/top" and ds.class_names[9] == "Ankle boot"


def test_cifar10_reads_the_python_tarball(cache: Path, write_cifar) -> None:
    images, labels = write_cifar(cache / "datasets" / "cifar10" / "cifar-10-python.tar.gz", n_per_batch=10)
    ds = load_dataset("cifar10")
    assert ds.input_shape == (32, 32, 3) and (len(ds.x_train) + len(ds.x_val), len(ds.x_test)) == (50, 10)
    assert ds.class_names == (
        "airplane",
        "automobile",
        "bird",
        "cat",
        "deer",
        "dog",
        "frog",
        "horse",
        "ship",
        "truck",
    )
    assert ds.x_test.dtype == np.uint8  # kept compact; the model divides by the training maximum
    np.testing.assert_allclose(ds.float_inputs(ds.x_test), images / ds.preprocessor.scale_, rtol=1e-6)
    np.testing.assert_array_equal(ds.y_test, labels)


def test_imdb_is_multi_hot_over_word_ranks(cache: Path, write_imdb) -> None:
    write_imdb(cache / "datasets" / "imdb" / "imdb.npz")
    arrays = read_npz_arrays(cache / "datasets" / "imdb" / "imdb.npz", ("x_test", "y_test"))
    ds = load_dataset("imdb")
    assert (ds.task, ds.kind, ds.input_shape) == (Task.BINARY, "tabular", (10_000,))
    assert ds.class_names == ("negative", "positive")
    first = arrays["x_test"][0]
    np.testing.assert_array_equal(np.flatnonzero(ds.x_test[0]), np.unique(np.asarray(first) - 1))
    assert set(np.unique(ds.x_train)) <= {0.0, 1.0}


def test_object_arrays_holding_other_objects_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "evil.npz"
    hostile = np.empty(1, dtype=object)
    hostile[0] = Path("/")  # any class beyond NumPy arrays and plain containers
    np.savez(path, x_train=hostile)
    with pytest.raises(DatasetError, match="refusing to load pathlib"):
        read_npz_arrays(path, ("x_train",))


def test_fetch_downloads_atomically_verifies_and_then_uses_the_cache(tmp_path: Path) -> None:
    origin = tmp_path / "origin.bin"
    origin.write_bytes(b"0123456789" * 1000)
    destination = tmp_path / "cache" / "file.bin"
    digest = hashlib.sha256(origin.read_bytes()).hexdigest()
    assert fetch(origin.as_uri(), destination, sha256=digest).read_bytes() == origin.read_bytes()
    assert [p.name for p in destination.parent.iterdir()] == ["file.bin"]  # no temporary file left
    origin.unlink()
    assert fetch(origin.as_uri(), destination) == destination  # cached: the origin is not read


def test_fetch_rejects_a_corrupt_download_and_leaves_nothing(tmp_path: Path) -> None:
    origin = tmp_path / "origin.bin"
    origin.write_bytes(b"payload")
    destination = tmp_path / "cache" / "file.bin"
    with pytest.raises(DatasetError, match="corrupt"):
        fetch(origin.as_uri(), destination, sha256="0" * 64)
    assert list(destination.parent.iterdir()) == []


def test_a_failed_download_names_the_url_and_where_to_put_the_file(tmp_path: Path) -> None:
    url = (tmp_path / "absent.csv").as_uri()
    with pytest.raises(DatasetError) as error:
        load_dataset(url, cache_dir=tmp_path / "c")
    message = str(error.value)
    assert url in message and str(url_cache_path(url, tmp_path / "c")) in message and "place it at" in message
    assert "\n" not in message


def test_bad_fractions_fail_before_any_download(cache: Path) -> None:
    with pytest.raises(DatasetError, match="val_fraction"):
        load_dataset("mnist", val_fraction=2.0)
    assert not cache.exists()


def test_a_missing_remote_file_without_network_says_where_to_place_it(cache: Path, monkeypatch) -> None:
    # Point the origin at a port nothing listens on: the loader must fail with the cache path in one line.
    monkeypatch.setattr("automl.datasets._remote._KERAS_ORIGIN", "http://127.0.0.1:9/")
    with pytest.raises(DatasetError) as error:
        load_dataset("mnist")
    assert "http://127.0.0.1:9/mnist.npz" in str(error.value)
    assert str(cache / "datasets" / "mnist" / "mnist.npz") in str(error.value)
