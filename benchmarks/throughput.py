"""Training throughput on data of real size: ``automl.train`` against a plain ``model.fit`` of the same model.

Two generated sets of the classics' shapes (no download; :mod:`automl.datasets._synthetic`):

* ``fashion``: 60,000 uint8 images 28x28 of 10 classes (48,000 fit rows after the validation split);
* ``imdb``: 25,000 multi-hot rows of 10,000 words, uint8 (20,000 fit rows).

For each set, the same config (an MLP; ``--cnn`` adds the cnn space's default on fashion) is trained:

(a) plain: ``model.fit(x, y, batch_size=..., epochs=...)`` on the arrays as the Dataset holds them
    (uint8: the model casts), no validation, compiled with Keras's default ``steps_per_execution=1``, as a
    hand-written script is (as in benchmarks/overhead.py); and, for reference, ``plain spe=32``: the same
    with automl's ``steps_per_execution``;
(b) automl: ``automl.train(config, dataset, epochs=...)``: the tf.data pipeline (shuffled, cast per batch,
    prefetched), the validation split predicted and scored after every epoch.
    ``--pipeline map`` swaps in the alternative that reads a memory map of the rows batch by batch
    (``tf.numpy_function``; no copy of the rows in TensorFlow) to compare it.

The same model (``automl.build_model``: same layers, same initial weights) in this process, alternating,
``--repeats`` times. Samples/s counts fit rows over the epochs after the first (the first traces the graph).
Prints both and the ratio automl / plain (target >= 1.0).

Usage: python benchmarks/throughput.py [--epochs 3] [--repeats 2] [--sets fashion,imdb] [--cnn]
       [--pipeline copy|map]
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any

import automl
from automl.datasets._synthetic import fashion_like_dataset, imdb_like_dataset

MLP = {
    "family": "mlp",
    "depth": 2,
    "units": 128,
    "activation": "relu",
    "learning_rate": 1e-3,
    "batch_size": 128,
}
CONFIGS: dict[str, list[tuple[str, dict[str, Any]]]] = {
    "fashion": [("mlp 128x2, batch 128", MLP)],
    "imdb": [("mlp 16x2, batch 512", {**MLP, "units": 16, "batch_size": 512})],
}
CNN = {"family": "cnn", "blocks": 2, "filters": 32, "dense_units": 64, "batch_norm": True, "dropout": 0.2,
       "batch_size": 64}  # fmt: skip


class EpochClock:
    """Keras callback: the time at each epoch's start and at the end of training."""

    def __init__(self) -> None:
        self.marks: list[float] = []

    def as_callback(self) -> Any:
        from automl._keras import keras

        clock = self

        class _Clock(keras.callbacks.Callback):
            def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
                clock.marks.append(time.perf_counter())

            def on_train_end(self, logs: Any = None) -> None:
                clock.marks.append(time.perf_counter())

        return _Clock()

    def samples_per_second(self, n_rows: int) -> float:
        """Rows per second over every epoch but the first."""
        return n_rows * (len(self.marks) - 2) / (self.marks[-1] - self.marks[1])


def plain(config: dict[str, Any], dataset: automl.Dataset, epochs: int, steps: int = 1) -> float:
    from automl._keras import clear_session, set_seed
    from automl.model import build_model

    clear_session()
    set_seed(0)
    model = build_model(config, dataset, steps_per_execution=steps)
    clock = EpochClock()
    model.fit(dataset.x_train, dataset.y_train, batch_size=int(config["batch_size"]), epochs=epochs,
              callbacks=[clock.as_callback()], verbose=0)  # fmt: skip
    return clock.samples_per_second(len(dataset.x_train))


def with_automl(config: dict[str, Any], dataset: automl.Dataset, epochs: int) -> float:
    clock = EpochClock()
    result = automl.train(
        {**config, "epochs": epochs, "patience": epochs + 1}, dataset, callbacks=[clock.as_callback()]
    )
    assert result.epochs_run == epochs, result
    return clock.samples_per_second(len(dataset.x_train))


def mapped_fit_data(x: Any, y: Any, batch_size: int, seed: int) -> Any:
    """The rejected alternative: batches read from the (memory-mapped) arrays, no copy in TensorFlow."""
    import numpy as np

    from automl._keras import tf

    def take(i: Any) -> tuple[Any, Any]:
        i = np.sort(i)
        return x[i].astype(np.float32), y[i]

    def gather(i: Any) -> tuple[Any, Any]:
        xb, yb = tf.numpy_function(take, [i], (tf.float32, tf.as_dtype(y.dtype)))
        xb.set_shape((None, *x.shape[1:]))
        yb.set_shape((None,))
        return xb, yb

    data = tf.data.Dataset.range(len(x)).shuffle(len(x), seed=seed).batch(batch_size)
    return data.map(gather, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--sets", default="fashion,imdb")
    parser.add_argument("--cnn", action="store_true", help="also the cnn default on fashion (slow on CPU)")
    parser.add_argument("--pipeline", choices=("copy", "map"), default="copy")
    args = parser.parse_args()
    from automl import _keras

    _keras.configure_process(threads=2)
    if args.pipeline == "map":
        import automl.training._train as train_module

        train_module.fit_data = mapped_fit_data  # a measurement of the alternative, not a feature
    ratios = []
    for name in args.sets.split(","):
        started = time.perf_counter()
        dataset = fashion_like_dataset() if name == "fashion" else imdb_like_dataset()
        x = dataset.x_train
        print(f"{name}: {len(x):,} fit rows {x.shape[1:]} {x.dtype} "
              f"(made in {time.perf_counter() - started:.0f} s)")  # fmt: skip
        configs = CONFIGS[name] + ([("cnn default, batch 64", CNN)] if args.cnn and name == "fashion" else [])
        for label, config in configs:
            plain(config, dataset, 2)  # warm-up
            runs = []
            for _ in range(args.repeats):
                p = plain(config, dataset, args.epochs)
                a = with_automl(config, dataset, args.epochs)
                p32 = plain(config, dataset, args.epochs, steps=32)
                runs.append((p, a, p32))
            for repeat, (p, a, p32) in enumerate(runs, 1):
                print(f"  {label}, repeat {repeat}: plain model.fit {p:8,.0f} samples/s, "
                      f"automl.train {a:8,.0f} samples/s, ratio {a / p:.2f}   "
                      f"(plain spe=32 {p32:8,.0f}, ratio {a / p32:.2f})")  # fmt: skip
            ratios.append((name, label, statistics.median(a / p for p, a, _ in runs),
                           statistics.median(a / p32 for _, a, p32 in runs)))  # fmt: skip
    print(f"pipeline: {args.pipeline}")
    for name, label, ratio, ratio32 in ratios:
        print(f"{name:8s} {label:24s} median ratio automl / plain {ratio:5.2f}   (target >= 1.0)   "
              f"automl / plain spe=32 {ratio32:5.2f}")  # fmt: skip


if __name__ == "__main__":
    main()
