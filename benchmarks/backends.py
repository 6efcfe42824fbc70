"""Backends compared under equal wall-clock budgets on the same space and dataset.

For each of Optuna TPE + median pruning, Optuna random, KerasTuner Hyperband, KerasTuner Bayesian and
KerasTuner random: one search of ``--seconds`` wall clock on ``--dataset`` with ``--space``; prints the
trials completed (and pruned / failed), the best validation score, the seconds per trial, and each
figure's ratio to KerasTuner random. Same seed, same process (TensorFlow warmed up once first).

Usage: python benchmarks/backends.py [--dataset digits] [--space tiny] [--seconds 60]
"""

from __future__ import annotations

import argparse
import tempfile
import time

import automl

CONTENDERS = [
    ("optuna", "tpe", "median"),
    ("optuna", "random", "none"),
    ("keras_tuner", "hyperband", None),
    ("keras_tuner", "bayesian", None),
    ("keras_tuner", "random", None),
]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--dataset", default="digits")
    parser.add_argument("--space", default="tiny")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    dataset = automl.load_dataset(args.dataset, seed=args.seed)
    space = automl.load_space(args.space)
    automl.train(space.default_config(), dataset, epochs=1)  # warm-up: the process's first graph build

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for backend, algorithm, pruner in CONTENDERS:
            search = automl.AutoMLSearch(
                space=space,
                backend=backend,
                algorithm=algorithm,
                pruner=pruner,
                n_trials=None,
                timeout=args.seconds,
                run_dir=f"{tmp}/{backend}-{algorithm}",
                seed=args.seed,
            )
            start = time.perf_counter()
            search.fit(dataset)
            wall = time.perf_counter() - start
            states = [t.state.value for t in search.trials_]
            rows.append(
                {
                    "search": f"{backend} {algorithm}"
                    + (f" + {pruner}" if pruner not in (None, "none") else ""),
                    "complete": states.count("complete"),
                    "pruned": states.count("pruned"),
                    "failed": states.count("fail"),
                    "best": search.best_score_,
                    "s/trial": wall / max(len(states), 1),
                }
            )
    metric = search.study_info_.metric
    reference = rows[-1]
    print(f"{args.dataset}, space {args.space}, {args.seconds:.0f} s each; best = validation {metric}")
    header = f"{'search':28s} {'complete':>8s} {'pruned':>6s} {'failed':>6s} {'best':>8s} {'s/trial':>8s}"
    print(header + f" {'trials/ref':>10s} {'best/ref':>8s} {'s/trial/ref':>11s}")
    for row in rows:
        finished = row["complete"] + row["pruned"]
        ref_finished = reference["complete"] + reference["pruned"]
        print(
            f"{row['search']:28s} {row['complete']:8d} {row['pruned']:6d} {row['failed']:6d} "
            f"{row['best'] or float('nan'):8.4f} {row['s/trial']:8.2f} "
            f"{finished / max(ref_finished, 1):10.2f} {(row['best'] or 0) / (reference['best'] or 1):8.3f} "
            f"{row['s/trial'] / reference['s/trial']:11.2f}"
        )


if __name__ == "__main__":
    main()
