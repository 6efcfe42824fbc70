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

Keras backends: ``--keras-backend jax`` measures on JAX (each against a plain ``model.fit`` on the same
backend); ``--keras-backend all`` measures every installed backend, each in its own process (Keras takes
one backend per process), and adds a table of each backend's seconds per trial against TensorFlow's on the
same configs.

Usage: python benchmarks/overhead.py [--trials 10] [--epochs 10] [--repeats 3] [--keras-backend all]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import statistics
import subprocess
import sys
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
    parser.add_argument("--keras-backend", default=None, help="tensorflow, jax, torch, or all installed")
    parser.add_argument("--json", action="store_true", help="end with one JSON line of the medians")
    args = parser.parse_args()
    if args.keras_backend == "all":
        compare_backends(args)
        return
    from automl.keras_backend import use_keras_backend

    backend = use_keras_backend(args.keras_backend)
    dataset = automl.load_dataset("digits", seed=0)
    space = bench_space(args.epochs)
    plain_fit(space.default_config(), dataset)  # warm-up: the backend's first compile in this process

    ratios, plain_times, automl_times = [], [], []
    for repeat in range(args.repeats):
        automl_seconds, configs = automl_trial_seconds(space, dataset, args.trials, args.epochs)
        plain_seconds = plain_trial_seconds(configs, dataset)
        ratios.append(automl_seconds / plain_seconds)
        plain_times.append(plain_seconds)
        automl_times.append(automl_seconds)
        if repeat == 0:
            batches = sorted({c["batch_size"] for c in configs})
            print(f"{backend}: digits, {len(configs)} configs x {args.epochs} epochs, batch sizes {batches}")
        print(
            f"repeat {repeat + 1}: plain model.fit {plain_seconds:5.2f} s/trial, "
            f"automl search {automl_seconds:5.2f} s/trial, ratio {ratios[-1]:.2f}"
        )
    print(
        f"{'median ratio automl / plain':28s} {statistics.median(ratios):5.2f}   "
        "(target <= 0.8, never > 1.05)",
        flush=True,
    )
    if args.json:
        medians = {
            "backend": backend,
            "plain": statistics.median(plain_times),
            "automl": statistics.median(automl_times),
            "ratio": statistics.median(ratios),
        }
        print(json.dumps(medians))


def compare_backends(args: argparse.Namespace) -> None:
    """Each installed backend in a process of its own, then one table against TensorFlow."""
    rows = {}
    for backend in ("tensorflow", "jax", "torch"):
        if importlib.util.find_spec(backend) is None:
            print(f"{backend}: not installed, skipped")
            continue
        command = [sys.executable, __file__, "--keras-backend", backend, "--json"]
        for flag in ("trials", "epochs", "repeats"):
            command += [f"--{flag}", str(getattr(args, flag))]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        print(done.stdout.rsplit("\n", 2)[0] if done.returncode == 0 else done.stderr[-2000:], flush=True)
        if done.returncode == 0:
            rows[backend] = json.loads(done.stdout.strip().splitlines()[-1])
    head = f"{'backend':<11}{'plain s/trial':>14}{'automl s/trial':>15}{'automl/plain':>13}"
    print(f"\n{head}{'automl vs tf':>13}")
    tf = rows.get("tensorflow")
    for backend, row in rows.items():
        against = f"{row['automl'] / tf['automl']:.2f}" if tf else "-"
        print(f"{backend:<11}{row['plain']:>14.2f}{row['automl']:>15.2f}{row['ratio']:>13.2f}{against:>13}")


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
