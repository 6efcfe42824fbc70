"""Weather: will tomorrow be sunny? A small network against the "tomorrow = today" forecast.

The workshop predicts tomorrow's hours of sunshine in Basel from today's weather and learns to ask
first what a naive forecast scores. Here:

1. The data is split **in time order** (training days first, then validation, then test: no model is
   scored on days older than those it learnt from), and the leaderboard shows the **persistence**
   baseline (tomorrow's sunshine = today's) beside the mean and a linear model.
2. The workshop's first network (two layers of 100 nodes; it had 100 and 50) trained for 200 epochs, with and
   without **early stopping** (patience 10): the same best epoch, at a fraction of the epochs.
3. A **search over the node counts** of the two layers (2 to 100 each), with early stopping.
4. The best config is retrained and **saved**; the saved ``model.keras`` is opened again with plain
   Keras and predicts the test days, scored against persistence.

Offline it uses a generated table of one city's weather (``weather_data.py`` documents the generator).
``--full`` downloads the workshop's CSV of 18 cities, 2000-2010 (once, into the automl cache) and predicts
``BASEL_sunshine`` of the next day from every column of today.

    python examples/weather/run.py                 # about two minutes on 2 cores
    python examples/weather/run.py --full          # the workshop's data (downloaded once)
    python examples/weather/run.py --budget 0.1    # a quick smoke run
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parents[1]), str(HERE)]  # the repository root (examples._common) and this folder

from weather_data import generate_weather  # noqa: E402

import automl  # noqa: E402
from automl.datasets import from_frame  # noqa: E402
from automl.space import Choice, Int  # noqa: E402
from examples._common import baseline, parse_args, scaled, show, space, study  # noqa: E402

WEATHER_URL = "https://zenodo.org/record/5071376/files/weather_prediction_dataset_light.csv?download=1"
NETWORK = {"depth": 2, "activation": "relu", "optimizer": "adam", "learning_rate": 1e-3, "batch_size": 32}


def load(full: bool, seed: int = 0) -> automl.Dataset:
    """Today's weather; target tomorrow's sunshine, persistence forecast today's; in date order."""
    if full:
        from automl.datasets._download import fetch, url_cache_path  # automl's download cache

        frame = pd.read_csv(fetch(WEATHER_URL, url_cache_path(WEATHER_URL)))
        frame = frame.drop(columns=["DATE", "MONTH"]).rename(columns={"BASEL_sunshine": "sunshine"})
        frame["sunshine_tomorrow"] = frame["sunshine"].shift(-1)
        frame = frame.iloc[:-1]
    else:
        frame = generate_weather(seed=seed).drop(columns=["date"])
    return from_frame(
        frame, name="weather", target="sunshine_tomorrow", persistence="sunshine", split="ordered", seed=seed
    )


def early_stopping(dataset, out, *, epochs=200, workers=1, seed=0):
    """The workshop's first network (here 100 nodes in both layers), for every epoch and with patience 10."""
    grid = space("early_stopping", [Choice("patience", (epochs, 10))], **NETWORK, units=100, epochs=epochs)
    return study(out, "early_stopping", dataset, grid, workers=workers, seed=seed)


def node_search(dataset, out, *, n_trials, epochs=200, workers="auto", seed=0):
    """Node counts of the two layers, each 2 to 100; early stopping after 10 epochs without progress."""
    searched = space(
        "nodes", [Int("units", 2, 100, log=True, per_layer="depth")], **NETWORK, epochs=epochs, patience=10
    )
    return study(
        out, "nodes", dataset, searched, algorithm="tpe", n_trials=n_trials, workers=workers, seed=seed
    )


def predict_with_keras(search) -> dict[str, object]:
    """Retrain the best config, save it, reopen ``model.keras`` with plain Keras and score the test days.

    The saved model reads preprocessed inputs and writes standardised sunshine; ``automl.load_model``
    wraps both conversions, here they are done by hand to show what is inside.
    """
    import keras

    search.retrain()
    dataset = search.dataset_
    path = Path(search.run_dir_) / "models" / dataset.name / "model.keras"
    model = keras.models.load_model(path)
    predicted = dataset.to_original_units(model.predict(dataset.x_test, verbose=0).ravel())
    truth = dataset.to_original_units(dataset.y_test)
    today = dataset.to_original_units(dataset.persistence_test)
    rmse = lambda guess: float(np.sqrt(np.mean((guess - truth) ** 2)))  # noqa: E731
    return {
        "model": rmse(predicted),
        "persistence": rmse(today),
        "retrain": search.test_metrics_["rmse"],
        "linear": search.retrain_report_.test_baselines["linear"],
        "path": str(path),
    }


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(
        __doc__.splitlines()[0],
        "weather",
        "use the workshop's weather CSV (downloaded once) instead of the generated table",
        argv,
    )
    dataset = load(args.full, args.seed)
    print(dataset, "| target: sunshine_tomorrow; persistence: sunshine (today's)")

    epochs = scaled(200, args.budget, 12)
    stopping = early_stopping(dataset, args.out, epochs=epochs, workers=1, seed=args.seed)
    show(stopping, "1-2. persistence on the leaderboard; a 100-100 network without and with early stopping")

    search = node_search(
        dataset,
        args.out,
        n_trials=scaled(30, args.budget, 2),
        epochs=epochs,
        workers=args.workers,
        seed=args.seed,
    )
    table = show(search, "3. node counts of the two layers", top=8)
    sizes = [
        f"{c['units_0']}-{c['units_1']}: {s:.3f}" for c, s in zip(table.config, table.score, strict=True)
    ]
    print("validation RMSE (hours) by nodes:", ", ".join(sizes[:10]))
    print(
        f"best {search.best_score_:.3f} h against persistence {baseline(search, 'persistence'):.3f} h "
        f"and linear {baseline(search, 'linear'):.3f} h"
    )

    scores = predict_with_keras(search)
    print(
        f"\n4. reloaded {scores['path']} with keras.models.load_model: test RMSE {scores['model']:.3f} h "
        f"(retrain reported {scores['retrain']:.3f}); on the same days persistence "
        f"{scores['persistence']:.3f} h, linear {scores['linear']:.3f} h"
    )


if __name__ == "__main__":
    main()
