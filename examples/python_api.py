"""Search a small MLP for the wine dataset from Python, then read the results.

python examples/python_api.py [--trials 20] [--run-dir runs/example-wine]
"""

from __future__ import annotations

import argparse

import automl


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--run-dir", default="runs/example-wine")
    args = parser.parse_args()

    space = automl.load_space("examples/spaces/regularised_mlp.yaml")
    search = automl.AutoMLSearch(
        space=space,
        backend="optuna",
        algorithm="tpe",
        pruner="median",
        n_trials=args.trials,
        run_dir=args.run_dir,
        overwrite=True,
        seed=0,
    )
    search.fit("wine")

    board = search.leaderboard_
    print(board[["rank", "trial", "state", "score", "best_epoch"]].head(8).to_string(index=False))
    baselines = search.study_info_.baselines
    print(f"best validation accuracy {search.best_score_:.3f} (linear baseline {baselines['linear']:.3f})")
    print("best config:", search.best_config_)


if __name__ == "__main__":
    main()
