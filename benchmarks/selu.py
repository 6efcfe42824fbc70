"""What ``selu`` layers should be built with: the weights and dropout that score best on a noisy table.

selu's paper pairs it with ``lecun_normal`` weights and alpha dropout (self-normalising networks). On a
noisy 4-class table of 4,000 rows (scikit-learn's ``make_classification``), one config (4 × 180 selu
units, dropout 0.23, cosine schedule, Adam 3.3e-3, batch 128, up to 60 epochs) is trained through
:func:`automl.train` with each pairing of weights and dropout, over three seeds, and with ``relu`` as a
control. automl builds selu layers with the pairing that wins (``selu_style: standard`` unless a space
asks for ``self_normalising``).

Usage: python benchmarks/selu.py [--seeds 3]
"""

from __future__ import annotations

import argparse
import statistics


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args()

    from sklearn.datasets import make_classification

    import automl
    from automl.datasets import from_arrays

    x, y = make_classification(
        n_samples=4000, n_features=20, n_informative=8, n_redundant=4, n_classes=4, flip_y=0.15,
        class_sep=0.8, random_state=0,
    )  # fmt: skip
    dataset = from_arrays(x, y, name="noisy4", seed=0)
    config = {
        "depth": 4, "units": 180, "activation": "selu", "dropout": 0.23, "lr_schedule": "cosine",
        "optimizer": "adam", "learning_rate": 3.3e-3, "batch_size": 128, "epochs": 60, "patience": 10,
    }  # fmt: skip
    variants = {
        "standard (glorot + dropout)": {"selu_style": "standard"},
        "self_normalising (lecun + alpha dropout)": {"selu_style": "self_normalising"},
        "relu, standard": {"activation": "relu"},
    }
    rows = len(dataset.y_train)
    print(f"noisy 4-class table, {rows} training rows; validation accuracy over {args.seeds} seeds")
    for name, change in variants.items():
        scores = [
            automl.train({**config, **change}, dataset, seed=seed, metric="accuracy").best_score
            for seed in range(args.seeds)
        ]
        print(f"{name:42s} mean {statistics.fmean(scores):.4f}   " + " ".join(f"{s:.3f}" for s in scores))


if __name__ == "__main__":
    main()
