"""What to deploy: the top-1 retrained model, an ensemble of the top K, or a final fit on every row.

A final fit learns from the test rows, so its effect cannot be read off the run's own test split. Each
dataset is first cut into the rows automl sees (80 %) and *future* rows it never sees (20 %, stratified,
seeded); automl searches and retrains on the former as a user would, and the three deployable models are
scored once on the future rows.

Usage: python benchmarks/deploy.py [--datasets digits,wine,breast_cancer] [--timeout 40] [--top 3]
                                   [--seeds 0,1]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--datasets", default="digits,wine,breast_cancer")
    parser.add_argument("--space", default="compact")
    parser.add_argument("--timeout", type=float, default=40.0)
    parser.add_argument("--top", type=int, default=3)
    parser.add_argument("--seeds", default="0,1")
    args = parser.parse_args()

    from sklearn import datasets as sk
    from sklearn.model_selection import train_test_split

    from automl import AutoMLSearch

    loaders = {"digits": sk.load_digits, "wine": sk.load_wine, "breast_cancer": sk.load_breast_cancer}
    rows = []
    for name in args.datasets.split(","):
        for seed in (int(s) for s in args.seeds.split(",")):
            x, y = loaders[name](return_X_y=True)
            x_seen, x_future, y_seen, y_future = train_test_split(
                x, y, test_size=0.2, stratify=y, random_state=seed
            )
            scores = {}
            with tempfile.TemporaryDirectory() as folder:
                search = AutoMLSearch(
                    space=args.space, n_trials=None, timeout=args.timeout, devices=1, seed=seed,
                    run_dir=Path(folder) / "run",
                )  # fmt: skip
                search.fit(x_seen, y_seen)
                scores["top-1"] = search.retrain().score(x_future, y_future)
                scores[f"ensemble of {args.top}"] = search.retrain(top_k=args.top, ensemble=True).score(
                    x_future, y_future
                )
                scores["final fit"] = search.retrain(final_fit=True).score(x_future, y_future)
                scores["run's own test (top-1)"] = search.test_metrics_["accuracy"]
            rows.append((name, seed, scores))
            print(name, seed, {k: round(v, 4) for k, v in scores.items()}, flush=True)

    kinds = list(rows[0][2])
    print(f"\nfuture-row accuracy, {args.space}, {args.timeout:.0f} s search, mean over seeds {args.seeds}")
    print(f"{'dataset':<15}" + "".join(f"{k:>24}" for k in kinds))
    for name in args.datasets.split(","):
        mine = [scores for n, _, scores in rows if n == name]
        print(f"{name:<15}" + "".join(f"{statistics.fmean(s[k] for s in mine):>24.4f}" for k in kinds))
    gains = {k: statistics.fmean(s[k] - s["top-1"] for _, _, s in rows) for k in kinds if k != "top-1"}
    print("mean gain over top-1: " + ", ".join(f"{k} {v:+.4f}" for k, v in gains.items()))


if __name__ == "__main__":
    main()
