"""Auto MPG: reading under- and over-fitting from learning curves, then regularising with a search.

The workshop predicts a car's fuel use (miles per gallon) from seven standardised measurements and
teaches by hand what the curves say:

1. **Three fixed models** (a grid of widths, two hidden layers, Adam, batch 16, 60 epochs, no early
   stopping): one unit per layer *under-fits*, 32 units is *balanced*, 128 units *over-fits* (its
   validation loss turns up after a few epochs). :func:`automl.diagnose` gives each its label.
2. **A regularisation search** on the over-fitting 128×128 network with plain SGD: L1, L2 or both
   (0 switches a penalty off), dropout, batch normalisation, batch size and the learning rate.
3. **Retraining** the best config on train + validation and scoring it once on the test split, beside
   the mean and linear (ridge) baselines fitted on the same rows.

automl standardises the numeric inputs with the training split's statistics (and one-hot encodes the
origin), as the workshop does by hand. The data is built in (``automl datasets show auto_mpg``).

    python examples/auto_mpg/run.py                 # about two minutes on 2 cores
    python examples/auto_mpg/run.py --budget 0.1    # a quick smoke run
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repository root, for examples._common

import automl
from automl.space import Bool, Choice, Float
from examples._common import baseline, parse_args, scaled, show, space, study

WIDTHS = {1: "under-fit", 32: "balanced", 128: "over-fit"}  # units per layer → what the curves show
PENALTIES = (0.0, 1e-5, 1e-4, 1e-3, 1e-2)  # for l1 and for l2: 0 is off, so the search picks the kind too


def load(seed: int = 0) -> automl.Dataset:
    return automl.load_dataset("auto_mpg", seed=seed)


def fixed_models(dataset, out, *, epochs=60, workers=1, seed=0):
    """Two hidden layers of 1, 32 or 128 units; Adam at 1e-3; batch 16; every epoch kept."""
    grid = space(
        "fixed_models",
        [Choice("units", tuple(WIDTHS))],
        depth=2,
        optimizer="adam",
        learning_rate=1e-3,
        batch_size=16,
        epochs=epochs,
        patience=epochs,
    )
    return study(out, "fixed_models", dataset, grid, workers=workers, seed=seed)


def regularisation_search(dataset, out, *, n_trials, epochs=300, workers="auto", seed=0):
    """The over-fitting 128×128 network with plain SGD; early stopping after 20 epochs without progress."""
    searched = space(
        "regularised",
        [
            Choice("l1", PENALTIES),
            Choice("l2", PENALTIES),
            Float("dropout", 0.0, 0.5),
            Bool("batch_norm"),
            Choice("batch_size", (8, 16, 32, 64, 128)),
            Float("learning_rate", 1e-5, 1e-1, log=True),
        ],
        depth=2,
        units=128,
        optimizer="sgd",
        epochs=epochs,
        patience=20,
    )
    return study(
        out, "regularised", dataset, searched, algorithm="tpe", n_trials=n_trials, workers=workers, seed=seed
    )


def penalty_kind(config: dict) -> str:
    kinds = [name.upper() for name in ("l1", "l2") if config.get(name, 0.0) > 0]
    return "+".join(kinds) or "none"


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(__doc__.splitlines()[0], "auto_mpg", "(no effect: Auto MPG is built in)", argv)
    out, seed = args.out, args.seed
    dataset = load(seed)
    print(dataset, "| inputs standardised on the training split:", ", ".join(dataset.feature_names or ()))

    fixed = fixed_models(dataset, out, workers=1, seed=seed)
    table = show(fixed, "1. three fixed models: validation RMSE (mpg) and the diagnosis of their curves")
    for row in table.sort_values("trial").itertuples():
        units = row.config["units"]
        print(f"  {units:>3} units per layer (meant to be {WIDTHS[units]}): diagnosed {row.diagnosis}")

    search = regularisation_search(
        dataset,
        out,
        n_trials=scaled(40, args.budget, 2),
        epochs=scaled(300, args.budget, 10),
        workers=args.workers,
        seed=seed,
    )
    table = show(search, "2. L1 / L2 / dropout / batch norm / batch size / SGD learning rate", top=8)
    kinds = table.assign(kind=[penalty_kind(c) for c in table.config]).groupby("kind")["score"].min()
    print("best validation RMSE by penalty:", kinds.round(3).to_dict())
    print(
        "best by batch norm:",
        table.assign(bn=[c["batch_norm"] for c in table.config])
        .groupby("bn")["score"]
        .min()
        .round(3)
        .to_dict(),
    )

    search.retrain()
    test = search.retrain_report_.test_baselines
    rmse = search.test_metrics_["rmse"]
    print(
        f"\n3. retrained best ({penalty_kind(search.best_config_)}): test RMSE {rmse:.3f} mpg; baselines "
        f"on test: mean {test['mean']:.3f}, linear {test['linear']:.3f} "
        f"(validation: mean {baseline(search, 'mean'):.3f}, linear {baseline(search, 'linear'):.3f})"
    )


if __name__ == "__main__":
    main()
