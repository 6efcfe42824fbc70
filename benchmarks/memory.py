"""A worker's memory over many small trials: automl's trial runner against a plain training loop.

Trains ``--trials`` small configs of ``--space`` on ``--dataset`` in one process, as one worker does, and
prints the resident memory (RSS) at checkpoints, twice, each in a fresh process:

* ``runner``: through the engine's :class:`~automl.engine.TrialRunner` (what a worker runs);
* ``plain``: the same configs through :func:`automl.train` in a loop, what a hand-written script does,
  with ``clear_session()`` and garbage collection between models.

TensorFlow registers each traced train step's gradient in a process-wide registry that it never prunes,
and the entry holds the traced graph: the plain loop grows by a few MB a model. The runner frees those
entries when a trial ends. Target: ≤ 50 MB of growth over 100 trials; recycling a worker every
``--recycle-after`` trials (its default) bounds what is left.

Usage: python benchmarks/memory.py [--dataset digits] [--space tiny] [--trials 100] [--only runner|plain]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys


def rss_mb() -> float:
    with open(f"/proc/{os.getpid()}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def measure(mode: str, dataset_name: str, space_name: str, trials: int, marks: list[int]) -> dict[int, float]:
    """RSS growth (MB) after each mark, from the RSS after a first trial (the first graph build)."""
    import automl
    from automl import _keras
    from automl.engine import TrialRunner

    _keras.configure_process(threads=1)
    dataset = automl.load_dataset(dataset_name, seed=0)
    space = automl.load_space(space_name)
    runner = TrialRunner(dataset, metric="accuracy", family=space.family)

    def one(n: int) -> None:
        if mode == "runner":
            runner.run(space.sample(n), number=n)
        else:
            automl.train(space.sample(n), dataset, seed=n, metric="accuracy", family=space.family)

    one(0)
    base = rss_mb()
    seen = {}
    for n in range(1, trials + 1):
        one(n)
        if n in marks:
            seen[n] = rss_mb() - base
    return seen


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--dataset", default="digits")
    parser.add_argument("--space", default="tiny")
    parser.add_argument("--trials", type=int, default=100)
    parser.add_argument("--only", choices=("runner", "plain"))
    parser.add_argument("--child", choices=("runner", "plain"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    marks = sorted({1, 10, 25, 50, args.trials} & set(range(1, args.trials + 1)))

    if args.child:
        seen = measure(args.child, args.dataset, args.space, args.trials, marks)
        print("RESULT " + json.dumps(seen))
        return

    from automl.workers import RECYCLE_AFTER

    results = {}
    for mode in [args.only] if args.only else ["runner", "plain"]:
        command = [sys.executable, __file__, "--child", mode, "--dataset", args.dataset,
                   "--space", args.space, "--trials", str(args.trials)]  # fmt: skip
        output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
        line = next(line for line in output.splitlines() if line.startswith("RESULT "))
        results[mode] = {int(k): v for k, v in json.loads(line[len("RESULT ") :]).items()}

    print(f"{args.dataset} · {args.space} · RSS growth (MB) from the first trial, one process each")
    print(f"{'trials':>8}" + "".join(f"{mode:>10}" for mode in results))
    for n in marks:
        print(f"{n:>8}" + "".join(f"{results[mode][n]:>10.1f}" for mode in results))
    for mode, seen in results.items():
        per_trial = (seen[args.trials] - seen[marks[0]]) / max(args.trials - marks[0], 1)
        print(f"{mode}: {seen[args.trials]:.1f} MB after {args.trials} trials ({per_trial:.2f} MB a trial)")
    print(f"workers are recycled every {RECYCLE_AFTER} trials by default (--recycle-after)")


if __name__ == "__main__":
    main()
