"""Data of real size stays compact: uint8 images and multi-hot rows through split, preprocessing and the
file the workers share; generated stand-ins of Fashion-MNIST and IMDB (no download)."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from automl.datasets import cv_folds
from automl.datasets._shared import RaggedRows, open_shared, share_dataset
from automl.datasets._synthetic import fashion_like, fashion_like_dataset, imdb_like, imdb_like_dataset


@pytest.fixture(scope="module")
def fashion():
    return fashion_like_dataset(2000, 400, seed=0)


@pytest.fixture(scope="module")
def imdb():
    return imdb_like_dataset(2000, 400, seed=0)


def test_generators_have_the_classics_shapes_and_are_seeded() -> None:
    x, y, x_test, _ = fashion_like(300, 50, seed=3)
    assert (x.shape, x.dtype, x_test.shape) == ((300, 28, 28), np.uint8, (50, 28, 28))
    assert set(np.unique(y)) == set(range(10)) and y.dtype == np.int64
    np.testing.assert_array_equal(fashion_like(300, 50, seed=3)[0], x)
    assert not np.array_equal(fashion_like(300, 50, seed=4)[0], x)
    raw = imdb_like(200, 50, seed=3)
    assert raw.kind == "sequence" and len(raw.x) == 200 and len(raw.x_test) == 50
    assert min(int(s.min()) for s in raw.x) >= 1 and max(int(s.max()) for s in raw.x) <= 10_000
    np.testing.assert_array_equal(imdb_like(200, 50, seed=3).x[7], raw.x[7])


def test_images_stay_uint8_through_split_and_preprocessing(fashion) -> None:
    for x in (fashion.x_train, fashion.x_val, fashion.x_test):
        assert x.dtype == np.uint8 and x.shape[1:] == (28, 28, 1)
    assert fashion.input_scale == fashion.preprocessor.scale_ > 1
    values = fashion.float_inputs(fashion.x_val)
    assert values.dtype == np.float32 and values.min() >= 0.0 and values.max() <= 1.0
    # A refit (a cross-validation fold, a final fit on every row) stays compact too.
    fold = next(iter(cv_folds(fashion, 2)))
    assert fold.x_train.dtype == np.uint8 and fold.input_scale == fashion.input_scale


def test_multi_hot_rows_are_uint8(imdb) -> None:
    assert imdb.x_train.dtype == np.uint8 and imdb.x_train.shape[1:] == (10_000,)
    assert set(np.unique(imdb.x_val)) <= {0, 1} and imdb.input_scale == 1.0
    np.testing.assert_array_equal(imdb.float_inputs(imdb.x_val), imdb.x_val.astype(np.float32))


def test_raw_images_of_another_dtype_transform_to_the_same_values(fashion) -> None:
    raw = fashion_like(20, 5, seed=9)[0]
    pre = fashion.preprocessor
    np.testing.assert_array_equal(
        pre.transform(raw.astype(np.float64)), pre.transform(raw).astype(np.float32)
    )


def test_a_preprocessor_saved_before_compact_inputs_transforms_as_before(fashion, tmp_path: Path) -> None:
    """An old pickle has no ``compact_``: its model has no rescaling layer, so it still gets [0, 1] floats."""
    old = fashion.preprocessor.fresh().fit(fashion_like(100, 10, seed=1)[0], np.arange(100) % 10)
    del old.__dict__["compact_"]
    path = old.save(tmp_path / "pre.joblib")
    loaded = type(old).load(path)
    images = fashion_like(10, 5, seed=2)[0]
    out = loaded.transform(images)
    assert out.dtype == np.float32 and loaded.input_scale_ == 1.0
    np.testing.assert_array_equal(out[..., 0], images.astype(np.float32) / np.float32(loaded.scale_))


def test_fingerprint_is_the_one_of_the_float32_rows(fashion) -> None:
    """Runs searched before compact inputs keep their fingerprint (``--resume`` accepts them)."""
    floats = fashion.with_float_inputs()
    assert fashion.fingerprint == floats.fingerprint


def test_ragged_rows_pack_sequences_flat() -> None:
    rows = [np.array([3, 1, 2]), np.array([], dtype=np.int64), [7]]
    packed = RaggedRows.pack(rows)
    assert len(packed) == 3 and packed.flat.dtype == np.int32
    assert [list(r) for r in packed] == [[3, 1, 2], [], [7]]
    assert list(packed[-1]) == [7] and [list(r) for r in packed[1:]] == [[], [7]]
    with pytest.raises(IndexError):
        packed[3]


_READER = textwrap.dedent("""
    import hashlib, json, sys
    import numpy as np
    from automl.datasets._shared import open_shared
    ds = open_shared(sys.argv[1])
    print(json.dumps({
        "memmap": isinstance(ds.x_train, np.memmap) and not ds.x_train.flags.writeable,
        "dtype": str(ds.x_train.dtype),
        "digest": hashlib.sha256(np.ascontiguousarray(ds.x_train).tobytes()).hexdigest(),
        "fingerprint": ds.fingerprint,
        "mapped": sum(sys.argv[1] in line for line in open("/proc/self/maps")) > 0,
    }))
""")


def test_two_processes_map_one_file_written_once(imdb, tmp_path: Path) -> None:
    path = share_dataset(imdb, tmp_path / "workers" / "dataset.joblib")
    written = path.stat()
    readers = [
        subprocess.Popen([sys.executable, "-c", _READER, str(path)], stdout=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    seen = [json.loads(reader.communicate(timeout=120)[0]) for reader in readers]
    expected = hashlib.sha256(np.ascontiguousarray(imdb.x_train).tobytes()).hexdigest()
    for one in seen:
        assert one == {"memmap": True, "dtype": "uint8", "digest": expected,
                       "fingerprint": imdb.fingerprint, "mapped": True}  # fmt: skip
    # Written once: the readers neither rewrote it nor left copies beside it.
    assert path.stat().st_mtime_ns == written.st_mtime_ns and path.stat().st_ino == written.st_ino
    assert os.listdir(path.parent) == ["dataset.joblib"]


def test_shared_sequences_refit_like_the_original(imdb, tmp_path: Path) -> None:
    shared = open_shared(share_dataset(imdb, tmp_path / "dataset.joblib"))
    assert isinstance(shared.raw_rows[0], RaggedRows)
    fold, original = next(iter(cv_folds(shared, 2))), next(iter(cv_folds(imdb, 2)))
    np.testing.assert_array_equal(fold.x_val, original.x_val)
    assert fold.x_val.dtype == np.uint8


def test_baselines_see_the_float32_values() -> None:
    fashion = fashion_like_dataset(100, 20, seed=0)
    floats = fashion.with_float_inputs()
    assert fashion.baselines() == pytest.approx(floats.baselines())
