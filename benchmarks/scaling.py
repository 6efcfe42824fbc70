"""Trials per minute with 1 and with N worker processes on this machine: the same seeded search.

Each configuration runs a fresh search of ``--seconds`` wall clock (start-up included, as a user waits for
it) on ``--dataset`` with ``--space``, Optuna with ``--algorithm`` and no pruning (so trials cost the same
whichever worker runs them). "1 process" is today's single-process search, TensorFlow using every core;
"N workers" is N single-threaded worker processes sharing the study. Prints finished trials, trials per
minute, the best validation score, and each ratio to the single process. Target on CPU: ≥ 1.6× with 2
workers on 2 cores. On N GPUs the design target is ≥ 0.85·N× (not measured here).

Usage: python benchmarks/scaling.py [--dataset digits] [--space compact] [--seconds 180] [--workers 2]
"""

from __future__ import annotations

import argparse
import tempfile
import time

import automl


def run(devices: int, args: argparse.Namespace, folder: str) -> dict[str, float]:
    search = automl.AutoMLSearch(
        space=args.space,
        algorithm=args.algorithm,
        pruner="none",
        n_trials=None,
        timeout=args.seconds,
        devices=devices,
        run_dir=f"{folder}/w{devices}",
        seed=args.seed,
    )
    started = time.perf_counter()
    search.fit(args.dataset)
    wall = time.perf_counter() - started
    finished = sum(r.state.finished for r in search.trials_)
    return {"finished": finished, "per_minute": finished / wall * 60, "best": search.best_score_ or 0.0}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--dataset", default="digits")
    parser.add_argument("--space", default="compact")
    parser.add_argument("--algorithm", default="random")
    parser.add_argument("--seconds", type=float, default=180.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        one = run(1, args, folder)
        many = run(args.workers, args, folder)
    print(f"{args.dataset} · {args.space} · optuna {args.algorithm} · {args.seconds:.0f} s each")
    print(f"{'devices':<12}{'finished':>10}{'trials/min':>12}{'best':>9}{'ratio':>8}")
    for label, row in (("1 process", one), (f"{args.workers} workers", many)):
        ratio = row["per_minute"] / one["per_minute"] if one["per_minute"] else float("nan")
        print(
            f"{label:<12}{row['finished']:>10.0f}{row['per_minute']:>12.1f}{row['best']:>9.4f}{ratio:>8.2f}"
        )


if __name__ == "__main__":
    main()
