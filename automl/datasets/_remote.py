"""mnist, fashion_mnist, cifar10 and imdb: the files keras.datasets uses, read without Keras.

Each loader fetches its files into ``<cache>/datasets/<name>/`` (once; see :func:`fetch`) and reads the
original formats: NumPy ``.npz`` (mnist, imdb), gzipped IDX (fashion_mnist) and the pickled batches of the
CIFAR-10 tarball. Pickles are read with an unpickler that only rebuilds NumPy arrays and plain containers.
All four keep their official test split.
"""

from __future__ import annotations

import gzip
import pickle
import tarfile
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from automl.datasets._download import fetch
from automl.datasets._raw import RawData
from automl.exceptions import DatasetError
from automl.tasks import Task

__all__ = ["load_cifar10", "load_fashion_mnist", "load_imdb", "load_mnist", "read_idx", "read_npz_arrays"]

_KERAS_ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
_CIFAR10_ORIGIN = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
# SHA-256 of the published files (as keras.datasets checks them); fashion-mnist publishes none.
_SHA256 = {
    "mnist.npz": "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1",
    "imdb.npz": "69664113be75683a8fe16e3ed0ab59fda8886cb3cd7ada244f7d9544e4676b9f",
    "cifar-10-python.tar.gz": "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce",
}
FASHION_FILES = (
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
)
FASHION_NAMES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)  # fmt: skip
CIFAR10_NAMES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
_IDX_DTYPES: dict[int, str] = {0x08: "u1", 0x09: "i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def _cached(cache: Path, dataset: str, file: str, origin: str) -> Path:
    return fetch(origin, cache / "datasets" / dataset / file, sha256=_SHA256.get(file))


def load_mnist(cache: Path) -> RawData:
    path = _cached(cache, "mnist", "mnist.npz", _KERAS_ORIGIN + "mnist.npz")
    arrays = read_npz_arrays(path, ("x_train", "y_train", "x_test", "y_test"))
    return _images(arrays, "mnist", path, tuple(str(d) for d in range(10)))


def load_fashion_mnist(cache: Path) -> RawData:
    paths = [_cached(cache, "fashion_mnist", file, _KERAS_ORIGIN + file) for file in FASHION_FILES]
    x_train, y_train, x_test, y_test = (read_idx(p) for p in paths)
    arrays = {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test}
    return _images(arrays, "fashion_mnist", paths[0].parent, FASHION_NAMES)


def load_cifar10(cache: Path) -> RawData:
    path = _cached(cache, "cifar10", "cifar-10-python.tar.gz", _CIFAR10_ORIGIN)
    try:
        with tarfile.open(path, "r:gz") as archive:
            # Read members straight from the archive: nothing is extracted onto the disk.
            batches = [_required(_unpickle_member(archive, f"data_batch_{i}")) for i in range(1, 6)]
            test = _required(_unpickle_member(archive, "test_batch"))
            meta = _unpickle_member(archive, "batches.meta", required=False)
    except (tarfile.TarError, OSError, EOFError) as error:
        raise DatasetError(f"could not read {path} as the CIFAR-10 python archive: {error}") from None
    names: tuple[str, ...] = CIFAR10_NAMES
    if meta is not None and b"label_names" in meta:
        names = tuple(n.decode() if isinstance(n, bytes) else str(n) for n in meta[b"label_names"])
    arrays = {
        "x_train": np.concatenate([_cifar_images(b) for b in batches]),
        "y_train": np.concatenate([np.asarray(b[b"labels"]) for b in batches]),
        "x_test": _cifar_images(test),
        "y_test": np.asarray(test[b"labels"]),
    }
    return _images(arrays, "cifar10", path, names)


def load_imdb(cache: Path, num_words: int = 10_000) -> RawData:
    """IMDB reviews as word-rank sequences, multi-hot encoded over the ``num_words`` most frequent words."""
    path = _cached(cache, "imdb", "imdb.npz", _KERAS_ORIGIN + "imdb.npz")
    arrays = read_npz_arrays(path, ("x_train", "y_train", "x_test", "y_test"))
    return RawData(
        x=arrays["x_train"],
        y=arrays["y_train"].astype(np.int64),
        x_test=arrays["x_test"],
        y_test=arrays["y_test"].astype(np.int64),
        kind="sequence",
        task=Task.BINARY,
        class_names=("negative", "positive"),
        num_words=num_words,
        source=str(path),
        info={"encoding": f"multi-hot over the {num_words} most frequent words"},
    )


def _images(arrays: dict[str, np.ndarray], name: str, path: Path, names: tuple[str, ...]) -> RawData:
    return RawData(
        x=arrays["x_train"],
        y=arrays["y_train"].astype(np.int64),
        x_test=arrays["x_test"],
        y_test=arrays["y_test"].astype(np.int64),
        kind="image",
        task=Task.MULTICLASS,
        class_names=names,
        source=str(path),
    )


def read_idx(path: Path) -> np.ndarray:
    """Read an IDX file (gzipped or not): 2 zero bytes, type code, rank, big-endian uint32 sizes, data."""
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as file:
            content = file.read()
    except (OSError, EOFError) as error:
        raise DatasetError(f"could not read {path} as an IDX file: {error}") from None
    if len(content) < 4 or content[:2] != b"\x00\x00" or content[2] not in _IDX_DTYPES:
        raise DatasetError(f"{path} is not an IDX file (bad magic number)")
    rank = content[3]
    shape = tuple(int(s) for s in np.frombuffer(content, dtype=">u4", count=rank, offset=4))
    dtype = np.dtype(_IDX_DTYPES[content[2]])
    offset = 4 + 4 * rank
    expected = int(np.prod(shape)) * dtype.itemsize
    if len(content) - offset != expected:
        raise DatasetError(f"{path} is truncated: {len(content) - offset} data bytes for shape {shape}")
    return np.frombuffer(content, dtype=dtype, offset=offset).reshape(shape).astype(dtype.newbyteorder("="))


def read_npz_arrays(path: Path, keys: tuple[str, ...]) -> dict[str, np.ndarray]:
    """Arrays ``keys`` of an ``.npz`` file; object arrays (ragged sequences) go through the safe unpickler."""
    arrays: dict[str, np.ndarray] = {}
    try:
        with zipfile.ZipFile(path) as archive:
            for key in keys:
                with archive.open(f"{key}.npy") as member:
                    arrays[key] = _read_npy(member)
    except KeyError as error:
        raise DatasetError(f"{path} lacks the array {error}; expected {list(keys)}") from None
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, pickle.UnpicklingError) as error:
        raise DatasetError(f"could not read {path} as npz: {error}") from None
    return arrays


def _read_npy(member: Any) -> np.ndarray:
    fmt = np.lib.format
    version = fmt.read_magic(member)
    read_header = fmt.read_array_header_1_0 if version == (1, 0) else fmt.read_array_header_2_0
    shape, fortran_order, dtype = read_header(member)
    if dtype.hasobject:
        return np.asarray(_ArrayUnpickler(member).load())
    data = np.frombuffer(member.read(), dtype=dtype)
    return data.reshape(shape, order="F" if fortran_order else "C")


class _ArrayUnpickler(pickle.Unpickler):
    """Rebuilds NumPy arrays, lists, dicts, numbers and strings, and refuses any other object."""

    _ALLOWED = frozenset(
        {("multiarray", "_reconstruct"), ("multiarray", "scalar"), ("numpy", "ndarray"), ("numpy", "dtype")}
    )

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) == ("_codecs", "encode"):
            # Protocol-2 pickles written by Python 3 store bytes as a call to codecs.encode; it is harmless.
            return super().find_class(module, name)
        # Files pickled by NumPy 1 name `numpy.core`; NumPy 2 keeps the same objects under `numpy._core`.
        short = module.rsplit(".", 1)[-1]
        if (short, name) in self._ALLOWED and module.startswith("numpy"):
            if short == "multiarray":
                return getattr(_multiarray(), name)
            return getattr(np, name)
        raise pickle.UnpicklingError(f"refusing to load {module}.{name}: only NumPy arrays are expected")


def _multiarray() -> Any:
    try:
        from numpy._core import multiarray
    except ImportError:  # NumPy 1
        from numpy.core import multiarray  # type: ignore[no-redef]
    return multiarray


def _required(batch: dict[bytes, Any] | None) -> dict[bytes, Any]:
    assert batch is not None  # _unpickle_member raises for a missing required member
    return batch


def _unpickle_member(
    archive: tarfile.TarFile, name: str, *, required: bool = True
) -> dict[bytes, Any] | None:
    member = next((m for m in archive.getmembers() if m.isfile() and m.name.endswith(f"/{name}")), None)
    if member is None:
        if required:
            raise DatasetError(f"{archive.name!s} lacks cifar-10-batches-py/{name}")
        return None
    file = archive.extractfile(member)
    assert file is not None
    try:
        return _ArrayUnpickler(file, encoding="bytes").load()  # type: ignore[no-any-return]
    except pickle.UnpicklingError as error:
        raise DatasetError(f"could not read {name} in {archive.name!s}: {error}") from None


def _cifar_images(batch: dict[bytes, Any]) -> np.ndarray:
    # Each row is 1024 red, then 1024 green, then 1024 blue values of a 32x32 image.
    data = np.asarray(batch[b"data"], dtype=np.uint8)
    return data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
