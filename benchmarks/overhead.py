"""Per-trial time of automl against a plain Keras loop, on the same 10 configs of digits.

(b) automl: ``AutoMLSearch`` with the random sampler, no pruning, a patience longer than the epoch budget
    (so no early stopping): wall time of the whole search divided by its trials (storage, sampling,
    validation scoring included).
(a) plain: for each config the search ran, the same model (``automl.build_model`` with Keras's default
    ``steps_per_execution=1``) trained by ``model.fit(x, y, batch_size, epochs, validation_data=...)`` on
    NumPy arrays, as a hand-written script would.

Same batch sizes, same epochs, same process, one warm-up fit first. The pair is measured ``--repeats``
times, alternating, because a 2-core machine's timings drift by 20-30 % between minutes: prints seconds per
trial and the ratio automl / plain of each repeat, and the median ratio (target <= 0.8 on small MLPs, never
above 1.05).

Usage: python benchmarks/overhead.py [--trials 10] [--epochs 10] [--repeats 3]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time

import automl
from automl.space import Choice, Fixed, Float, Int, SearchSpace


def bench_space(epochs: int) -> SearchSpace:
    return SearchSpace(
        name="bench",
        family="mlp",
        parameters=[
            Int("depth", 1, 3),
            Int("units", 16, 256, log=True, per_layer="depth"),
            Choice("activation", ("relu", "tanh", "gelu")),
            Float("dropout", 0.0, 0.3),
            Float("learning_rate", 1e-4, 1e-2, log=True),
            Choice("batch_size", (32, 64, 128)),
            Fixed("epochs", epochs),
            Fixed("patience", epochs + 1),
        ],
    )


def plain_fit(config: dict, dataset: automl.Dataset) -> None:
    from automl.model import build_model

    model = build_model(config, dataset, steps_per_execution=1)
    model.fit(
        dataset.x_train,
        dataset.y_train,
        batch_size=int(config["batch_size"]),
        epochs=int(config["epochs"]),
        validation_data=(dataset.x_val, dataset.y_val),
        verbose=0,
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--trials", type=int, default=10)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    dataset = automl.load_dataset("digits", seed=0)
    space = bench_space(args.epochs)
    plain_fit(space.default_config(), dataset)  # warm-up: TensorFlow's first graph build in this process

    ratios = []
    for repeat in range(args.repeats):
        automl_seconds, configs = automl_trial_seconds(space, dataset, args.trials, args.epochs)
        plain_seconds = plain_trial_seconds(configs, dataset)
        ratios.append(automl_seconds / plain_seconds)
        if repeat == 0:
            batches = sorted({c["batch_size"] for c in configs})
            print(f"digits, {len(configs)} configs x {args.epochs} epochs, batch sizes {batches}")
        print(
            f"repeat {repeat + 1}: plain model.fit {plain_seconds:5.2f} s/trial, "
            f"automl search {automl_seconds:5.2f} s/trial, ratio {ratios[-1]:.2f}"
        )
    print(
        f"{'median ratio automl / plain':28s} {statistics.median(ratios):5.2f}   "
        "(target <= 0.8, never > 1.05)"
    )


def automl_trial_seconds(
    space: SearchSpace, dataset: automl.Dataset, trials: int, epochs: int
) -> tuple[float, list[dict]]:
    """Seconds per trial of a whole random search (the same seed samples the same configs each time)."""
    with tempfile.TemporaryDirectory() as tmp:
        search = automl.AutoMLSearch(
            space=space, algorithm="random", pruner="none", n_trials=trials, run_dir=f"{tmp}/run", seed=0
        )
        start = time.perf_counter()
        search.fit(dataset)
        seconds = (time.perf_counter() - start) / trials
    assert all(t.epochs_run == epochs for t in search.trials_), "early stopping must stay off"
    return seconds, [t.config for t in search.trials_]


def plain_trial_seconds(configs: list[dict], dataset: automl.Dataset) -> float:
    from automl._keras import clear_session

    start = time.perf_counter()
    for config in configs:
        clear_session()
        plain_fit(config, dataset)
    return (time.perf_counter() - start) / len(configs)


if __name__ == "__main__":
    main()
