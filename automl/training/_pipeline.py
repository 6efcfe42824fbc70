"""What a fit reads: the training rows as a ``tf.data`` pipeline (on JAX and PyTorch: a Keras
``PyDataset``), the held-out rows as fixed tensors.

Rows may be compact (uint8 images or multi-hot rows, see :class:`~automl.datasets.Dataset`) and may be a
memory map of a file that several workers share: both are cast to float32 one batch at a time, so the
float copy of a dataset never exists.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from automl._keras import BACKEND, keras

__all__ = ["HeldOutPredictor", "fit_data"]


# Up to this size the fit rows are shuffled element-wise (small tables and images: the batches every
# earlier version drew); above it, shuffled indices gather each batch from one tensor, which draws 3-4x
# more rows a second than an element-wise shuffle (the pipeline alone over 48,000 uint8 images, 2 cores:
# 74k vs 210-320k rows/s) and keeps no shuffle buffer of rows beside the data.
_ELEMENT_SHUFFLE_BYTES = 16 * 2**20


def _as_float(x: Any) -> Any:
    from automl._keras import tf

    return x if x.dtype == tf.float32 else tf.cast(x, tf.float32)


def fit_data(x: np.ndarray, y: np.ndarray, batch_size: int, seed: int) -> Any:
    """What ``model.fit`` reads for rows ``x``, ``y``: shuffled batches, cast to float32 as drawn."""
    if BACKEND == "tensorflow":
        return _tf_fit_data(x, y, batch_size, seed)
    return ShuffledBatches(x, y, batch_size, seed)


class ShuffledBatches(keras.utils.PyDataset):
    """Batches of rows in a new random order each epoch, read from the arrays as they are (a memory map
    stays one), each cast to float32 as it is drawn: the JAX and PyTorch backends' pipeline.

    Large sets are read ahead by two threads (NumPy's gather and cast release the interpreter's lock);
    small ones inline, where a thread hand-off costs more than the batch.
    """

    def __init__(self, x: np.ndarray, y: np.ndarray, batch_size: int, seed: int) -> None:
        large = x.nbytes + y.nbytes > _ELEMENT_SHUFFLE_BYTES
        super().__init__(workers=2 if large else 1, max_queue_size=8)
        self.x, self.y, self.batch_size = x, y, int(batch_size)
        self._rng = np.random.default_rng(seed)
        self._order = self._rng.permutation(len(x))

    def __len__(self) -> int:
        return math.ceil(len(self.x) / self.batch_size)

    def __getitem__(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        rows = np.sort(self._order[index * self.batch_size : (index + 1) * self.batch_size])
        return np.asarray(self.x[rows], dtype=np.float32), np.asarray(self.y[rows])

    def on_epoch_end(self) -> None:
        self._order = self._rng.permutation(len(self.x))


def _tf_fit_data(x: np.ndarray, y: np.ndarray, batch_size: int, seed: int) -> Any:
    """A ``tf.data`` pipeline built once per fit: Keras's NumPy adapter re-slices the arrays every epoch,
    which costs about as much as the training steps of a small model (measured: 2-3x slower epochs).

    The rows are copied into TensorFlow once per fit, in their own dtype (uint8 stays uint8: a quarter of
    a float32 copy), and each batch is cast to float32 as it is drawn. Reading the (memory-mapped) rows
    batch by batch instead, with no copy, was slower than a plain ``model.fit`` (benchmarks/throughput.py
    ``--pipeline map``: 0.98x on 48,000 images, 0.50x on 20,000 multi-hot rows, against 1.54x and 1.28x
    with the copy), so the copy stays: it costs the fit rows once, compact (37 MB and 200 MB there).
    """
    from automl._keras import tf

    n = len(x)
    if x.nbytes + y.nbytes <= _ELEMENT_SHUFFLE_BYTES:
        data = tf.data.Dataset.from_tensor_slices((x, y)).shuffle(n, seed=seed, reshuffle_each_iteration=True)
        data = data.batch(batch_size)
        if x.dtype != np.float32:
            data = data.map(lambda xb, yb: (_as_float(xb), yb))
    else:
        xs, ys = tf.convert_to_tensor(x), tf.convert_to_tensor(y)
        data = tf.data.Dataset.range(n).shuffle(n, seed=seed, reshuffle_each_iteration=True).batch(batch_size)
        data = data.map(
            lambda i: (_as_float(tf.gather(xs, i)), tf.gather(ys, i)),
            num_parallel_calls=tf.data.AUTOTUNE,
            deterministic=True,
        )
    return data.prefetch(tf.data.AUTOTUNE)


class HeldOutPredictor:
    """Predictions on fixed rows: converted to tensors once (in their own dtype), then one eager call per
    chunk, each chunk cast to float32 as it goes in.

    Eager, not ``model.predict`` or a ``tf.function``: tracing costs 0.1-0.3 s per model, which a short
    trial never earns back, while an eager forward pass over a few large chunks costs milliseconds.
    """

    def __init__(self, x: np.ndarray, chunk: int) -> None:
        self.chunks = [keras.ops.convert_to_tensor(x[i : i + chunk]) for i in range(0, len(x), chunk)]

    def __call__(self, model: Any) -> np.ndarray:
        return np.concatenate(
            [
                keras.ops.convert_to_numpy(model(keras.ops.cast(c, "float32"), training=False))
                for c in self.chunks
            ]
        )
