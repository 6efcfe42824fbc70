"""Hand-tuning an MLP on Fashion-MNIST, automated: learning rate, schedules, architecture, over-fitting.

The lab tunes a one-hidden-layer MLP (128 units, plain SGD, batch 128) by hand. Here each step is a study
with a leaderboard, a diagnosis of every trial's curves and an HTML report:

1. **Learning-rate sweep** (grid): too large a rate wrecks the network (accuracy at chance), too small a
   rate barely moves it (under-fit); only the middle decades learn.
2. **Schedules at equal epochs** (grid): constant, step decay, piecewise constant, reduce-on-plateau and
   hold-then-decay (keep the rate, then ×0.95 every epoch), all from the sweep's best rate.
3. **Architecture search** (TPE): depth, width, batch size, activation and optimizer (with its rate).
4. **Over-fitting**: a 3×1000 network on a small training set is diagnosed over-fit; a search over L2
   and dropout on the same network finds settings whose curves no longer diverge.

Offline it uses scikit-learn's 8×8 digits (1,797 images; the over-fitting study takes 100 of the training
rows, as the lab takes 2,000 of Fashion-MNIST's 60,000). ``--full`` downloads Fashion-MNIST (once, into
the automl cache) and uses the lab's sizes.

    python examples/fashion_mnist_mlp/run.py                 # digits, a few minutes on 2 cores
    python examples/fashion_mnist_mlp/run.py --full          # Fashion-MNIST
    python examples/fashion_mnist_mlp/run.py --budget 0.1    # a quick smoke run
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repository root, for examples._common

import automl
from automl.space import Choice, Float, Int
from examples._common import baseline, parse_args, scaled, show, space, study

# The lab's sweep runs from 0.5 down to 1e-6. On the 1,079 digits training rows (9 SGD steps an epoch)
# even 1.0 still learns, so the grid starts higher to find the upper edge.
LEARNING_RATES = (5.0, 2.0, 1.0, 0.5, 0.1, 1e-2, 1e-3, 1e-4, 1e-5, 1e-6)
LAB_MLP = {"depth": 1, "units": 128, "activation": "relu", "optimizer": "sgd", "batch_size": 128}
BIG_MLP = {
    "depth": 3,
    "units": 1000,
    "activation": "relu",
    "optimizer": "sgd",
    "momentum": 0.9,
    "learning_rate": 0.1,
    "batch_size": 128,
}


def load(full: bool, seed: int = 0) -> automl.Dataset:
    return automl.load_dataset("fashion_mnist" if full else "digits", seed=seed)


def small_training_set(dataset: automl.Dataset, rows: int) -> automl.Dataset:
    """The first ``rows`` training rows (the split is shuffled), validated on the same held-out rows."""
    return dataclasses.replace(
        dataset, name=f"{dataset.name}-{rows}", x_train=dataset.x_train[:rows], y_train=dataset.y_train[:rows]
    )


def print_sizes(dataset: automl.Dataset) -> None:
    """Weights and training memory of the lab's two networks, counted without building them."""
    for label, config in (("1×128 MLP", LAB_MLP), ("3×1000 MLP", BIG_MLP)):
        weights = automl.count_params(config, dataset)
        memory = automl.estimate_memory(config, dataset)
        print(
            f"{label}: {weights:,} weights ({weights * 4 / 2**20:.2f} MiB as float32); "
            f"training at batch {config['batch_size']} needs at least {memory / 2**20:.1f} MiB"
        )


def lr_sweep(dataset, out, *, epochs, learning_rates=LEARNING_RATES, workers=1, seed=0):
    """Plain SGD, batch 128, one hidden layer of 128: one trial per learning rate."""
    grid = space(
        "lr_sweep",
        [Choice("learning_rate", tuple(learning_rates))],
        **LAB_MLP,
        epochs=epochs,
        patience=epochs,
    )
    return study(out, "lr_sweep", dataset, grid, workers=workers, seed=seed)


def schedules(dataset, out, *, learning_rate, epochs, workers=1, seed=0):
    """The lab's schedules from the same start, for the same number of epochs."""
    when = lambda *names: {"active_if": {"lr_schedule": list(names)}}  # noqa: E731
    grid = space(
        "schedules",
        [
            Choice("lr_schedule", ("constant", "step", "piecewise", "plateau", "warmup_hold_decay")),
            Choice("decay_every", (max(1, epochs // 3),), **when("step")),  # ×0.5 every third of the run
            Choice("piecewise_drop", (0.1,), **when("piecewise")),  # ×0.1 at 50 % and 75 % of the epochs
            Choice("plateau_patience", (3,), **when("plateau")),  # ×0.5 after 3 epochs without progress
            Choice("warmup_epochs", (0,), **when("warmup_hold_decay")),
            Choice("hold_epochs", (max(1, epochs // 3),), **when("warmup_hold_decay")),
            Choice("decay_rate", (0.95,), **when("warmup_hold_decay")),  # then ×0.95 every epoch
        ],
        **LAB_MLP,
        learning_rate=learning_rate,
        epochs=epochs,
        patience=epochs,
    )
    return study(out, "schedules", dataset, grid, workers=workers, seed=seed)


def architecture_search(dataset, out, *, n_trials, epochs, workers="auto", seed=0):
    """Depth, width, batch size, activation and optimizer; each optimizer gets its own rate."""
    searched = space(
        "architecture",
        [
            Int("depth", 1, 3),
            Int("units", 32, 512, log=True, per_layer="depth"),
            Choice("activation", ("relu", "elu", "gelu", "tanh", "sigmoid")),
            Choice("optimizer", ("sgd", "adam", "rmsprop")),
            Float("momentum", 0.0, 0.95, active_if={"optimizer": ["sgd"]}),
            Float("learning_rate", 1e-4, 0.5, log=True),
            Choice("batch_size", (32, 64, 128, 256)),
        ],
        epochs=epochs,
        patience=max(3, epochs // 5),
    )
    return study(
        out, "architecture", dataset, searched, algorithm="tpe", n_trials=n_trials, workers=workers, seed=seed
    )


def overfit(dataset, out, *, epochs, workers=1, seed=0):
    """The lab's 3×1000 network, SGD with momentum, no regularisation, no early stopping."""
    fixed = space("overfit", [Choice("dropout", (0.0,))], **BIG_MLP, epochs=epochs, patience=epochs)
    return study(out, "overfit", dataset, fixed, workers=workers, seed=seed)


def regularise(dataset, out, *, n_trials, epochs, workers="auto", seed=0):
    """The same network, searching the strength of L2 and the dropout rate."""
    searched = space(
        "regularised",
        [Float("l2", 1e-6, 1e-2, log=True), Float("dropout", 0.0, 0.6)],
        **BIG_MLP,
        epochs=epochs,
        patience=epochs,
    )
    return study(
        out, "regularised", dataset, searched, algorithm="tpe", n_trials=n_trials, workers=workers, seed=seed
    )


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(
        __doc__.splitlines()[0],
        "fashion_mnist_mlp",
        "use Fashion-MNIST (downloaded once) instead of the offline digits",
        argv,
    )
    b, out, w, seed = args.budget, args.out, args.workers, args.seed
    dataset = load(args.full, seed)
    print(dataset)
    print_sizes(dataset)

    sweep = lr_sweep(dataset, out, epochs=scaled(10 if args.full else 30, b, 5), workers=w, seed=seed)
    table = show(sweep, "1. learning-rate sweep, plain SGD, batch 128")
    best_lr = sweep.best_config_["learning_rate"]
    scores = {row.config["learning_rate"]: row.score for row in table.itertuples()}
    print(
        "accuracy by learning rate:",
        ", ".join(f"{lr:g}: {scores.get(lr, float('nan')):.3f}" for lr in LEARNING_RATES),
    )

    runs = schedules(
        dataset,
        out,
        learning_rate=best_lr,
        epochs=scaled(20 if args.full else 30, b, 6),
        workers=w,
        seed=seed,
    )
    show(runs, f"2. schedules from learning rate {best_lr:g}, equal epochs")
    for record in sorted(runs.trials_, key=lambda r: r.number):
        rates = record.history.get("lr", [])
        shown = " ".join(f"{rate:.3g}" for rate in rates[:: max(1, len(rates) // 6)])
        print(f"  {record.config['lr_schedule']:<18} lr per epoch: {shown}")

    search = architecture_search(
        dataset.name if args.full else dataset,  # by name: worker processes load it themselves
        out,
        n_trials=scaled(30 if args.full else 20, b, 2),
        epochs=scaled(20 if args.full else 30, b, 4),
        workers=w,
        seed=seed,
    )
    show(search, "3. depth, width, batch size, activation, optimizer", top=8)
    board = search.leaderboard_[search.leaderboard_["state"] == "complete"]
    for knob in ("activation", "optimizer"):
        print(f"best accuracy by {knob}:", board.groupby(knob)["score"].max().round(4).to_dict())

    small = small_training_set(dataset, 2000 if args.full else 100)
    epochs = 40 if args.full else scaled(100, b, 40)  # the small digits set takes one step an epoch
    big = overfit(small, out, epochs=epochs, workers=w, seed=seed)
    first = show(big, f"4a. 3×1000 network on {len(small.x_train)} training rows")
    fixed = regularise(small, out, n_trials=scaled(12, b, 2), epochs=epochs, workers=w, seed=seed)
    fix = show(fixed, "4b. the same network, searching L2 and dropout", top=5)
    print(
        f"unregularised: {first.diagnosis[0]} at {first.score[0]:.4f}; best regularised "
        f"(l2={fix.config[0]['l2']:.2g}, dropout={fix.config[0]['dropout']:.2f}): {fix.diagnosis[0]} at "
        f"{fix.score[0]:.4f}; linear baseline {baseline(fixed, 'linear'):.4f}"
    )


if __name__ == "__main__":
    main()
