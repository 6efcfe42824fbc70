"""IMDB reviews as multi-hot vectors: network size, L2 and dropout against over-fitting.

The workshop classifies movie reviews (positive or negative) from which of the 10,000 most frequent
words they contain, and compares by hand an original network (two layers of 16), a smaller one (8), a
bigger one (512), and the original with L2 (0.001) or dropout (0.5). Here:

1. **The grid of those networks** (plus L2 and dropout together), RMSprop, batch 512, every epoch kept:
   the leaderboard ranks them, and the diagnosis and the best epochs show the big network over-fitting
   first (its validation loss turns up after a few epochs while the others still improve).
2. **A search** over the width of the two layers, L2 and dropout, with early stopping.

Offline it uses synthetic reviews (:func:`synthetic_reviews`: word frequencies that follow Zipf's law
and a few planted words that carry the sentiment, sometimes misleadingly). ``--full`` downloads IMDB
(once, into the automl cache): 25,000 training reviews as 10,000-dimensional multi-hot vectors.

    python examples/imdb_regularisation/run.py                 # about two minutes on 2 cores
    python examples/imdb_regularisation/run.py --full          # IMDB
    python examples/imdb_regularisation/run.py --budget 0.1    # a quick smoke run
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repository root, for examples._common

import automl
from automl.space import Choice, Float, Int
from examples._common import parse_args, scaled, show, space, study

TRAINING = {
    "depth": 2,
    "activation": "relu",
    "optimizer": "rmsprop",
    "learning_rate": 1e-3,
    "batch_size": 512,
}


def synthetic_reviews(
    n_docs: int = 4000, *, num_words: int = 2000, n_signal: int = 20, misleading: float = 0.1, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Multi-hot documents ``(n_docs, num_words)`` of 0/1 and their labels (1 = positive).

    Each document draws 30-120 words with probability proportional to ``1 / rank`` (Zipf: a few words
    are everywhere, most are rare) and 2-5 words from its sentiment's ``n_signal`` planted words (ranks
    50-500, like "excellent" or "boring"). With probability ``misleading`` the planted words come from
    the other sentiment (sarcasm, a review that praises the actors of a bad film): about a tenth of the
    labels cannot be read from the words, which is what a large network learns by heart.
    """
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, n_docs)
    frequency = 1.0 / np.arange(1, num_words + 1)
    planted = rng.choice(np.arange(50, 500), size=2 * n_signal, replace=False).reshape(2, n_signal)
    x = np.zeros((n_docs, num_words), np.float32)
    for i, label in enumerate(labels):
        x[i, rng.choice(num_words, size=rng.integers(30, 121), p=frequency / frequency.sum())] = 1
        mood = label if rng.random() >= misleading else 1 - label
        x[i, rng.choice(planted[mood], size=rng.integers(2, 6))] = 1
    return x, labels


def load(full: bool, seed: int = 0) -> automl.Dataset:
    if full:
        return automl.load_dataset("imdb", seed=seed)  # multi-hot over the 10,000 most frequent words
    x, y = synthetic_reviews(seed=seed)
    train, val = int(0.6 * len(x)), int(0.8 * len(x))  # the rows are in random order already
    return automl.Dataset(
        name="reviews",
        task=automl.Task.BINARY,
        kind="tabular",
        n_classes=2,
        class_names=("negative", "positive"),
        x_train=x[:train],
        y_train=y[:train],
        x_val=x[train:val],
        y_val=y[train:val],
        x_test=x[val:],
        y_test=y[val:],
        source="examples/imdb_regularisation/run.py: synthetic_reviews",
        seed=seed,
    )


def network_name(config: dict) -> str:
    """The workshop's name for one of the grid's networks."""
    if config["units"] != 16:
        return {8: "smaller (8)", 512: "bigger (512)"}.get(config["units"], str(config["units"]))
    kinds = [name for name, key in (("L2", "l2"), ("dropout", "dropout")) if config.get(key, 0) > 0]
    return " + ".join(kinds) or "original (16)"


def network_grid(dataset, out, *, epochs=20, widths=(8, 16, 512), variants=True, workers=1, seed=0):
    """``widths`` units per layer; with ``variants``, the 16-unit network also with L2 0.001, dropout 0.5,
    or both."""
    when_16 = {"active_if": {"units": [16]}}
    knobs = [Choice("l2", (0.0, 1e-3), **when_16), Choice("dropout", (0.0, 0.5), **when_16)]
    grid = space(
        "networks",
        [Choice("units", tuple(widths)), *(knobs if variants else [])],
        **TRAINING,
        epochs=epochs,
        patience=epochs,
    )
    return study(out, "networks", dataset, grid, workers=workers, seed=seed)


def regularisation_search(dataset, out, *, n_trials, epochs=20, workers="auto", seed=0):
    """Width of the two layers, L2 and dropout; early stopping after 4 epochs without progress."""
    searched = space(
        "regularised",
        [
            Int("units", 4, 512, log=True, per_layer="depth"),
            Float("l2", 1e-6, 1e-2, log=True),
            Float("dropout", 0.0, 0.6),
        ],
        **TRAINING,
        epochs=epochs,
        patience=4,
    )
    return study(
        out, "regularised", dataset, searched, algorithm="tpe", n_trials=n_trials, workers=workers, seed=seed
    )


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(
        __doc__.splitlines()[0],
        "imdb_regularisation",
        "use IMDB (downloaded once) instead of the synthetic reviews",
        argv,
    )
    dataset = load(args.full, args.seed)
    print(dataset)

    grid = network_grid(dataset, args.out, epochs=scaled(20, args.budget, 8), workers=1, seed=args.seed)
    table = show(grid, "1. the workshop's networks, every epoch kept")
    print("\n  network          lowest val loss at epoch  val accuracy  diagnosis")
    for row in table.sort_values("epoch").itertuples():
        print(f"  {network_name(row.config):<16} {row.epoch:>24}  {row.score:>12.4f}  {row.diagnosis}")

    search = regularisation_search(
        "imdb" if args.full else dataset,  # by name: worker processes load it themselves
        args.out,
        n_trials=scaled(20, args.budget, 2),
        epochs=scaled(20, args.budget, 8),
        workers=args.workers,
        seed=args.seed,
    )
    show(search, "2. width, L2 and dropout, searched", top=8)
    best = search.best_config_
    widths = f"{best['units_0']}-{best['units_1']}"
    print(
        f"best: units {widths}, l2 {best['l2']:.2g}, dropout {best['dropout']:.2f}: "
        f"{search.best_score_:.4f} (grid's best {grid.best_score_:.4f})"
    )


if __name__ == "__main__":
    main()
