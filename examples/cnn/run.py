"""Dense against convolutional networks on images, at similar parameter counts; then dropout and a search.

The workshop trains an MLP and a small conv net on MNIST, then a deeper conv net with dropout on
CIFAR-10, and counts parameters by hand (a dense layer on 32×32×3 pixels has 3,072 weights per unit; a
3×3 conv kernel over 3 channels has 27). Here:

1. **Dense vs conv at matched size**: two conv nets (8 and 32 filters per block, two blocks of 3×3
   conv + 2×2 max pooling, flatten, 32 units) and, for each, a one-hidden-layer MLP whose width is chosen
   so that its weight count (``automl.count_params``) is the same within a few percent.
2. **Dropout** on the larger conv net: 0, 0.25 and 0.5 before the output layer.
3. **A search with the shipped ``cnn`` space** (blocks, filters, kernel, pooling, head, batch norm,
   dropout, L2, optimizer, schedule), its epoch budget scaled to ``--budget``.

Offline it uses scikit-learn's 8×8 digits as images; ``--full`` downloads MNIST and CIFAR-10 (once,
into the automl cache) and runs the three studies on each.

    python examples/cnn/run.py                 # a few minutes on 2 cores
    python examples/cnn/run.py --full          # MNIST, then CIFAR-10
    python examples/cnn/run.py --budget 0.1    # a quick smoke run
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repository root, for examples._common

import automl
from automl.space import Choice, load_space
from examples._common import diagnoses, parse_args, scaled, show, space, study, with_fixed

TRAINING = {"optimizer": "adam", "learning_rate": 1e-3, "batch_size": 64}
CONV = {
    "blocks": 2,
    "convs_per_block": 1,
    "kernel_size": 3,
    "pooling": "max",
    "head": "flatten",
    "dense_units": 32,
    "batch_norm": False,
    "activation": "relu",
}
FILTERS = (8, 32)


def matched_width(conv_config: dict, dataset: automl.Dataset) -> int:
    """The width of a one-hidden-layer MLP with as many weights as ``conv_config``'s conv net."""
    target = automl.count_params(conv_config, dataset, family="cnn")
    one = automl.count_params({"depth": 1, "units": 1}, dataset)
    per_unit = automl.count_params({"depth": 1, "units": 2}, dataset) - one  # inputs + bias + outputs
    return max(1, 1 + round((target - one) / per_unit))


def dense_vs_conv(dataset, out, *, epochs, filters=FILTERS, workers=1, seed=0):
    """Conv nets of ``filters`` filters per block, and MLPs of the same weight counts, trained alike."""
    widths = tuple(matched_width({**CONV, "filters": f}, dataset) for f in filters)
    fixed = {**TRAINING, "epochs": epochs, "patience": epochs}
    convs = space("conv", [Choice("filters", tuple(filters))], family="cnn", **CONV, dropout=0.0, **fixed)
    mlps = space("dense", [Choice("units", widths)], depth=1, **fixed)
    conv = study(out, "conv", dataset, convs, workers=workers, seed=seed)
    dense = study(out, "dense", dataset, mlps, workers=workers, seed=seed)
    return dense, conv


def dropout_grid(dataset, out, *, epochs, filters=FILTERS[-1], workers=1, seed=0):
    """The larger conv net with dropout 0, 0.25 and 0.5 before its output layer."""
    grid = space(
        "dropout",
        [Choice("dropout", (0.0, 0.25, 0.5))],
        family="cnn",
        **CONV,
        filters=filters,
        **TRAINING,
        epochs=epochs,
        patience=epochs,
    )
    return study(out, "dropout", dataset, grid, workers=workers, seed=seed)


def cnn_search(dataset, out, *, n_trials, epochs, workers="auto", seed=0):
    """The shipped ``cnn`` space, with ``epochs`` (and a patience of a fifth of them)."""
    searched = with_fixed(load_space("cnn"), epochs=epochs, patience=max(3, epochs // 5))
    return study(
        out, "cnn_space", dataset, searched, algorithm="tpe", n_trials=n_trials, workers=workers, seed=seed
    )


def compare(dense, conv) -> list[tuple[str, int, float, str]]:
    """``(model, weights, validation accuracy, diagnosis)`` of the four networks, smallest first."""
    rows = []
    for family, search in (("dense", dense), ("conv", conv)):
        for row in diagnoses(search).itertuples():
            record = next(r for r in search.trials_ if r.number == row.trial)
            knob = f"{row.config['units']} units" if family == "dense" else f"{row.config['filters']} filters"
            rows.append((f"{family} ({knob})", record.n_params, row.score, row.diagnosis))
    return sorted(rows, key=lambda r: (r[1], r[0]))


def run(dataset, out, args) -> None:
    b, w, seed = args.budget, args.workers, args.seed
    epochs = scaled(10 if args.full else 30, b, 4)
    print(dataset)
    dense, conv = dense_vs_conv(dataset, out, epochs=epochs, workers=1, seed=seed)
    show(dense, "1a. one-hidden-layer MLPs")
    show(conv, "1b. conv nets of the same weight counts")
    print("\n  model                  weights  val accuracy  diagnosis")
    for name, weights, score, label in compare(dense, conv):
        print(f"  {name:<20} {weights:>9,}  {score:>12.4f}  {label}")

    drop = dropout_grid(dataset, out, epochs=epochs, workers=1, seed=seed)
    show(drop, f"2. the {FILTERS[-1]}-filter conv net with dropout")

    search = cnn_search(
        dataset.name if args.full else dataset,  # by name: worker processes load it themselves
        out,
        n_trials=scaled(12, b, 2),
        epochs=scaled(20 if args.full else 40, b, 4),
        workers=w,
        seed=seed,
    )
    show(search, "3. the shipped cnn space, searched", top=6)
    best = search.best_config_
    print(
        f"best: {best['blocks']} blocks, filters {[best[f'filters_{i}'] for i in range(best['blocks'])]}, "
        f"dropout {best['dropout']:.2f}, batch norm {best['batch_norm']}: {search.best_score_:.4f}"
    )


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(
        __doc__.splitlines()[0], "cnn", "use MNIST and CIFAR-10 (downloaded once) instead of digits", argv
    )
    names = ("mnist", "cifar10") if args.full else ("digits",)
    for name in names:
        out = args.out / name if args.full else args.out
        run(automl.load_dataset(name, seed=args.seed), out, args)


if __name__ == "__main__":
    main()
