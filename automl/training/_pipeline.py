"""What a fit reads: the training rows as a ``tf.data`` pipeline, the held-out rows as fixed tensors."""

from __future__ import annotations

from typing import Any

import numpy as np

from automl._keras import tf

__all__ = ["HeldOutPredictor", "fit_data"]


# Below this size the fit rows are shuffled element-wise (fastest); above it, shuffled indices gather
# batches, so the shuffle buffer does not double a large dataset in memory.
_ELEMENT_SHUFFLE_BYTES = 256 * 2**20


def fit_data(x: np.ndarray, y: np.ndarray, batch_size: int, seed: int) -> Any:
    """A ``tf.data`` pipeline built once per fit: Keras's NumPy adapter re-slices the arrays every epoch,
    which costs about as much as the training steps of a small model (measured: 2-3x slower epochs)."""
    n = len(x)
    if x.nbytes + y.nbytes <= _ELEMENT_SHUFFLE_BYTES:
        data = tf.data.Dataset.from_tensor_slices((x, y)).shuffle(n, seed=seed, reshuffle_each_iteration=True)
        data = data.batch(batch_size)
    else:
        xs, ys = tf.convert_to_tensor(x), tf.convert_to_tensor(y)
        data = tf.data.Dataset.range(n).shuffle(n, seed=seed, reshuffle_each_iteration=True).batch(batch_size)
        data = data.map(lambda i: (tf.gather(xs, i), tf.gather(ys, i)))
    return data.prefetch(tf.data.AUTOTUNE)


class HeldOutPredictor:
    """Predictions on fixed rows: converted to tensors once, then one eager call per chunk.

    Eager, not ``model.predict`` or a ``tf.function``: tracing costs 0.1-0.3 s per model, which a short
    trial never earns back, while an eager forward pass over a few large chunks costs milliseconds.
    """

    def __init__(self, x: np.ndarray, chunk: int) -> None:
        self.chunks = [tf.convert_to_tensor(x[i : i + chunk]) for i in range(0, len(x), chunk)]

    def __call__(self, model: Any) -> np.ndarray:
        return np.concatenate([np.asarray(model(c, training=False)) for c in self.chunks])
