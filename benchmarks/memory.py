"""A worker's memory over many small trials, and what recycling every N trials keeps it to.

Trains ``--trials`` small configs of ``--space`` on ``--dataset`` through the engine's trial runner in this
process (as one worker does) and prints the resident memory (RSS) after each checkpoint. Each new Keras
model leaves a few MB behind even after ``clear_session()``, so a worker that is never replaced grows
without bound; one recycled every N trials (``recycle_after``, default 10) never grows past the RSS
after N trials. Target: ≤ 50 MB of growth with recycling.

Usage: python benchmarks/memory.py [--dataset digits] [--space tiny] [--trials 100]
"""

from __future__ import annotations

import argparse
import os


def rss_mb() -> float:
    with open(f"/proc/{os.getpid()}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--dataset", default="digits")
    parser.add_argument("--space", default="tiny")
    parser.add_argument("--trials", type=int, default=100)
    parser.add_argument("--recycle-after", type=int, default=10)
    args = parser.parse_args()

    import automl
    from automl import _keras
    from automl.engine import TrialRunner

    _keras.configure_process(threads=1)
    dataset = automl.load_dataset(args.dataset, seed=0)
    space = automl.load_space(args.space)
    runner = TrialRunner(dataset, metric="accuracy", family=space.family)
    runner.run(space.sample(0), number=0)  # the first graph build, not growth
    base = rss_mb()
    marks = sorted({1, 10, 25, args.recycle_after, args.trials})
    seen = {}
    for n in range(1, args.trials + 1):
        runner.run(space.sample(n), number=n)
        if n in marks:
            seen[n] = rss_mb()
    print(f"{args.dataset} · {args.space} · RSS after the first trial: {base:.0f} MB")
    print(f"{'trials':>8}{'RSS MB':>10}{'growth MB':>11}")
    for n, value in seen.items():
        print(f"{n:>8}{value:>10.0f}{value - base:>11.1f}")
    growth = seen[args.recycle_after] - base
    print(
        f"recycled every {args.recycle_after} trials: at most {growth:.1f} MB of growth; "
        f"never recycled: {seen[args.trials] - base:.1f} MB after {args.trials} trials"
    )


if __name__ == "__main__":
    main()
