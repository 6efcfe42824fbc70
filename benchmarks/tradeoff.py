"""What the front buys: a search for accuracy and model size, then the smallest config within a tolerance.

Two cases where size matters: 8x8 digit images with the ``cnn`` space, and a wide multi-hot table (an
IMDB-shaped set of 2,000 words, ``mlp`` space). Each runs ``automl`` with ``objectives=accuracy,size`` for a
fixed time, once per sampler (``tpe``: TPE's multi-objective form, automl's choice; ``nsga2``: NSGA-II, whose
first generation of 50 is random). From the complete trials it takes the best validation accuracy and the
smallest config within ``--tolerance`` of it, re-measures both configs' latency in this one quiet process
(built untrained: weights' values change neither size nor latency), and prints the ratios: "within 0.5
points of the best at 1/8 of the parameters and 1/3 of the latency". At batch 1 a small model's latency is
mostly the call's overhead, so the per-row latency in a batch of 256 is shown too. The samplers are
compared by the hypervolume of their fronts (validation error x size in bytes, one reference point per case).

Usage: python benchmarks/tradeoff.py [--cases digits-cnn,wide-mlp] [--timeout 150] [--tolerance 0.005]
                                     [--samplers tpe,nsga2] [--seeds 0] [--out benchmarks/results/tradeoff.md]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any


def _cases() -> dict[str, tuple[Any, str]]:
    from automl.datasets import load_dataset
    from automl.datasets._synthetic import imdb_like_dataset

    return {
        "digits-cnn": (lambda: load_dataset("digits", seed=0), "cnn"),
        "wide-mlp": (lambda: imdb_like_dataset(3_000, 1_000, num_words=2_000, seed=0), "mlp"),
    }


def _front(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """The non-dominated (error, size) points, both minimised, by size."""
    front: list[tuple[float, float]] = []
    for error, size in sorted(points, key=lambda p: (p[1], p[0])):
        if not front or error < front[-1][0]:
            front.append((error, size))
    return front


def _hypervolume(front: list[tuple[float, float]], reference: tuple[float, float]) -> float:
    """The area the 2-D front dominates up to ``reference`` (error, size), in units of the box."""
    area, last_error = 0.0, reference[0]
    for error, size in front:  # by size ascending, error descending
        if size >= reference[1] or error >= last_error:
            continue
        area += (last_error - error) * (reference[1] - size)
        last_error = error
    return area / (reference[0] * reference[1])


def run_case(name: str, sampler: str, seed: int, timeout: float, tolerance: float) -> dict[str, Any]:
    from automl import AutoMLSearch
    from automl.store import TrialState
    from automl.training import footprint_of

    make, space = _cases()[name]
    dataset = make()
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        search = AutoMLSearch(
            space=space, objectives="accuracy,size", algorithm=sampler, n_trials=None, timeout=timeout,
            seed=seed, run_dir=Path(folder) / "run", devices=1, warm_start="none",
        )  # fmt: skip
        search.fit(dataset)
        seconds = time.perf_counter() - started
    complete = [
        r for r in search.trials_
        if r.state is TrialState.COMPLETE and r.repeat_of is None and r.size_bytes and r.score is not None
    ]  # fmt: skip
    best = max(complete, key=lambda r: r.score)
    within = [r for r in complete if r.score >= best.score - tolerance]
    small = min(within, key=lambda r: r.size_bytes)
    picked = {best.number: best, small.number: small}.values()
    quiet = {r.number: footprint_of(r.config, dataset, family=space) for r in picked}

    def summary(r: Any) -> dict[str, Any]:
        return {"trial": r.number, "score": r.score, "params": r.n_params, "size": r.size_bytes,
                "latency": quiet[r.number].latency_ms,
                "latency_256": quiet[r.number].latency_ms_256}  # fmt: skip

    return {
        "case": name, "sampler": sampler, "seed": seed, "seconds": seconds, "trials": len(complete),
        "points": [(1.0 - r.score, float(r.size_bytes)) for r in complete],
        "best": summary(best), "small": summary(small),
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cases", default="digits-cnn,wide-mlp")
    parser.add_argument("--timeout", type=float, default=150.0)
    parser.add_argument("--tolerance", type=float, default=0.005)
    parser.add_argument("--samplers", default="tpe,nsga2")
    parser.add_argument("--seeds", default="0")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/tradeoff.md"))
    args = parser.parse_args()

    rows = []
    for case in args.cases.split(","):
        for sampler in args.samplers.split(","):
            for seed in (int(s) for s in args.seeds.split(",")):
                row = run_case(case, sampler, seed, args.timeout, args.tolerance)
                rows.append(row)
                b, s = row["best"], row["small"]
                print(
                    f"{case} {sampler} seed {seed}: {row['trials']} trials; best {b['score']:.4f} "
                    f"({b['params']:,} weights, {b['size']:,} B, {b['latency']:.3f} ms); smallest within "
                    f"{args.tolerance}: {s['score']:.4f} ({s['params']:,} weights, {s['size']:,} B, "
                    f"{s['latency']:.3f} ms)",
                    flush=True,
                )

    lines = [
        f"# What the front buys (`benchmarks/tradeoff.py`, {args.timeout:.0f} s per search, tolerance "
        f"{args.tolerance}, objectives accuracy,size)",
        "",
        "| case | sampler | seed | trials | best val. acc. | its weights / size / latency "
        "| smallest within tolerance | its weights / size / latency | params ratio | size ratio "
        "| latency ratio (batch 1) | per-row latency ratio (batch 256) | hypervolume |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for case in args.cases.split(","):
        mine = [r for r in rows if r["case"] == case]
        worst_size = max(size for r in mine for _, size in r["points"])
        reference = (1.0, 1.1 * worst_size)
        for r in mine:
            b, s = r["best"], r["small"]
            volume = _hypervolume(_front(r["points"]), reference)
            lines.append(
                f"| {case} | {r['sampler']} | {r['seed']} | {r['trials']} | {b['score']:.4f} | "
                f"{b['params']:,} / {b['size']:,} B / {b['latency']:.3f} ms | {s['score']:.4f} | "
                f"{s['params']:,} / {s['size']:,} B / {s['latency']:.3f} ms | "
                f"1/{b['params'] / s['params']:.1f} | 1/{b['size'] / s['size']:.1f} | "
                f"{s['latency'] / b['latency']:.2f} | {s['latency_256'] / b['latency_256']:.2f} | "
                f"{volume:.4f} |"
            )
    text = "\n".join(lines) + "\n"
    print(text)
    args.out.write_text(text)


if __name__ == "__main__":
    main()
