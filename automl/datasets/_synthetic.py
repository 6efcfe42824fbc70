"""Offline stand-ins of the classic large datasets: the shapes and dtypes of Fashion-MNIST and IMDB, made
from a seed, with a signal a model can learn (not noise), for benchmarks and tests without a download.

* :func:`fashion_like`: ``(x, y, x_test, y_test)``, uint8 images ``(n, 28, 28)`` of 10 classes. Each class
  is a prototype of a few soft strokes, several of them shared with a neighbouring class (as a shirt with a
  T-shirt); an image is its class's prototype shifted by up to 3 pixels, rescaled in brightness, with
  per-pixel noise. A small network learns it in one epoch, and it is not separable at a glance.
* :func:`imdb_like`: :class:`RawData` of word-rank sequences (``kind="sequence"``, ranks ``1 …
  num_words``, Zipf-distributed like words), two classes; each class uses its own few hundred words a
  little more often. :func:`load_dataset`'s pipeline encodes it multi-hot, as the real ``imdb``.

Both pass through the same split and preprocessing as the downloads (``from_arrays`` / ``from_raw``);
``automl/datasets/_remote.py`` still fetches the real ones for users who are online.
"""

from __future__ import annotations

import numpy as np

from automl.datasets._build import build_dataset
from automl.datasets._dataset import Dataset
from automl.datasets._raw import RawData
from automl.tasks import Task

__all__ = ["fashion_like", "fashion_like_dataset", "imdb_like", "imdb_like_dataset"]

_SIDE = 28
_CLASSES = 10
_MAX_SHIFT = 3


def _prototypes(rng: np.random.Generator) -> np.ndarray:
    """10 prototypes ``(10, 28, 28)`` in [0, 1]: 12 shared soft strokes, each class drawing 4 of them."""
    grid = np.mgrid[0:_SIDE, 0:_SIDE].astype(np.float32)
    strokes = []
    for _ in range(12):
        centre = rng.uniform(6, 22, size=2)
        spread = rng.uniform(1.5, 5.0, size=2)
        strokes.append(
            np.exp(-(((grid[0] - centre[0]) / spread[0]) ** 2) - ((grid[1] - centre[1]) / spread[1]) ** 2)
        )
    shared = np.stack(strokes)
    protos = np.zeros((_CLASSES, _SIDE, _SIDE), dtype=np.float32)
    for k in range(_CLASSES):
        # Class k draws strokes k, k+1, k+2 (shared with its neighbours) and one of its own choice.
        chosen = [k % 12, (k + 1) % 12, (k + 2) % 12, int(rng.integers(0, 12))]
        protos[k] = np.clip(shared[chosen].sum(axis=0), 0.0, 1.0)
    return protos


def _images(protos: np.ndarray, labels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    n = len(labels)
    out = np.empty((n, _SIDE, _SIDE), dtype=np.uint8)
    shifts = rng.integers(-_MAX_SHIFT, _MAX_SHIFT + 1, size=(n, 2))
    brightness = rng.uniform(0.55, 1.0, size=n).astype(np.float32)
    for start in range(0, n, 8192):  # in chunks, so the float intermediates stay small
        rows = slice(start, min(n, start + 8192))
        block = protos[labels[rows]]
        for dy in range(-_MAX_SHIFT, _MAX_SHIFT + 1):
            for dx in range(-_MAX_SHIFT, _MAX_SHIFT + 1):
                hit = np.flatnonzero((shifts[rows, 0] == dy) & (shifts[rows, 1] == dx))
                if len(hit):
                    block[hit] = np.roll(block[hit], (dy, dx), axis=(1, 2))
        block *= brightness[rows, None, None]
        block += rng.normal(0.0, 0.45, size=block.shape).astype(np.float32)
        out[rows] = np.clip(block * 255.0, 0, 255).astype(np.uint8)
    return out


def fashion_like(
    n_train: int = 60_000, n_test: int = 10_000, *, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Fashion-MNIST-shaped data: ``x`` uint8 ``(n_train, 28, 28)``, ``y`` int64 labels 0-9 (balanced), and
    an official test split of ``n_test`` rows; the same seed gives the same arrays."""
    rng = np.random.default_rng(seed)
    protos = _prototypes(rng)
    y = np.arange(n_train) % _CLASSES
    y_test = np.arange(n_test) % _CLASSES
    rng.shuffle(y)
    rng.shuffle(y_test)
    return _images(protos, y, rng), y.astype(np.int64), _images(protos, y_test, rng), y_test.astype(np.int64)


def fashion_like_dataset(n_train: int = 60_000, n_test: int = 10_000, *, seed: int = 0) -> Dataset:
    """:func:`fashion_like` split (20 % of the training rows for validation) and preprocessed."""
    from automl.datasets._load import from_arrays

    x, y, x_test, y_test = fashion_like(n_train, n_test, seed=seed)
    return from_arrays(x, y, x_test=x_test, y_test=y_test, name="fashion_like", seed=seed)


def _sequences(labels: np.ndarray, num_words: int, rng: np.random.Generator, marked: np.ndarray) -> list:
    ranks = np.arange(1, num_words + 1, dtype=np.float64)
    base = 1.0 / ranks  # Zipf: the rank-1 word is the most frequent
    by_class = []
    for k in range(2):
        weights = base.copy()
        weights[marked[k] - 1] *= 1.8  # the class's own words, a little more often
        by_class.append(weights / weights.sum())
    lengths = np.clip(rng.lognormal(5.2, 0.6, size=len(labels)).astype(np.int64), 10, 1000)
    out: list[np.ndarray] = [np.empty(0, dtype=np.int32)] * len(labels)
    for k in range(2):
        rows = np.flatnonzero(labels == k)
        words = rng.choice(num_words, size=int(lengths[rows].sum()), p=by_class[k]).astype(np.int32) + 1
        for row, part in zip(rows, np.split(words, np.cumsum(lengths[rows])[:-1]), strict=True):
            out[row] = part
    return out


def imdb_like(
    n_train: int = 25_000, n_test: int = 25_000, *, num_words: int = 10_000, seed: int = 0
) -> RawData:
    """IMDB-shaped reviews: word-rank sequences (~200 words each) of two balanced classes, an official test
    split, and ``num_words`` words; :func:`imdb_like_dataset` makes the multi-hot :class:`Dataset`."""
    rng = np.random.default_rng(seed)
    # 300 words per class from ranks 50-3000: frequent enough to show up, rare enough to carry meaning.
    pool = rng.permutation(np.arange(50, min(3000, num_words) + 1))
    marked = np.stack([pool[:300], pool[300:600]])
    y = np.arange(n_train) % 2
    y_test = np.arange(n_test) % 2
    rng.shuffle(y)
    rng.shuffle(y_test)
    return RawData(
        x=_sequences(y, num_words, rng, marked),
        y=y.astype(np.int64),
        x_test=_sequences(y_test, num_words, rng, marked),
        y_test=y_test.astype(np.int64),
        kind="sequence",
        task=Task.BINARY,
        class_names=("negative", "positive"),
        num_words=num_words,
        source="synthetic imdb_like",
        info={"encoding": f"multi-hot over the {num_words} most frequent words", "synthetic": True},
    )


def imdb_like_dataset(
    n_train: int = 25_000, n_test: int = 25_000, *, num_words: int = 10_000, seed: int = 0
) -> Dataset:
    """:func:`imdb_like` split (20 % of the training rows for validation) and encoded multi-hot."""
    raw = imdb_like(n_train, n_test, num_words=num_words, seed=seed)
    return build_dataset(raw, name="imdb_like", seed=seed, test_origin="official")
