"""What to deploy after the honest test: a final fit on every row, or an ensemble of the top configs.

* **Final fit.** The retrain scores the top configs once on the test split; that score is the honest
  estimate and stays in ``metrics.json``. Then the preprocessing and the top-1 config are fitted again on
  every row (train, validation and test) for the epoch count the retrain chose (the median over its
  seeds), and that model is the one saved. It has no test score of its own: every row it could be scored
  on, it learned from.
* **Ensemble.** The first-seed models of the top K configs (each retrained on train + validation) are
  joined into one Keras model that averages their outputs (class probabilities, or regression values);
  it is scored once on the test split beside each member and saved as one ``model.keras`` that plain
  ``keras.models.load_model`` opens.
"""

from __future__ import annotations

import json
import statistics
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from automl._diskspace import writing
from automl.datasets import take_rows
from automl.exceptions import Argument, UserError

if TYPE_CHECKING:
    from automl.datasets import Dataset
    from automl.retrain._report import DatasetRetrain

__all__ = ["all_rows", "average_model", "ensemble_model", "final_epochs", "save_retrained"]


def all_rows(dataset: Dataset) -> Dataset:
    """``dataset`` with every row in its training split and the preprocessing fitted again on them all.

    Its validation and test splits hold the old test rows, preprocessed anew: they are not held out (the
    final fit learns from them too) and only keep the arrays well-formed.
    """
    if dataset.raw_rows is None or dataset.preprocessor is None:
        raise UserError(
            "a final fit needs dataset {dataset!r} as loaded (its raw rows); a Dataset built by hand "
            "has none: retrain without {final_fit}",
            dataset=dataset.name,
            final_fit=Argument("final_fit"),
        )
    x_raw, y_raw = dataset.raw_rows
    test = np.arange(len(y_raw) - len(dataset.y_test), len(y_raw))
    held = (take_rows(x_raw, test), y_raw[test])
    return dataset.refitted((x_raw, y_raw), held, held)


def final_epochs(epochs_per_seed: list[int]) -> int:
    """The epoch count of the final fit: the retrain's, the median over its seeds."""
    return max(1, round(statistics.median(epochs_per_seed)))


def average_model(members: list[Any], input_shape: tuple[int, ...], *, name: str, part: str) -> Any:
    """One Keras model named ``name`` averaging the outputs of ``members`` (two or more, of one output
    shape), each a layer named ``<part>_<i>``: the ensemble of the top configs, and each bag of folds."""
    from automl._keras import keras

    inputs = keras.Input(shape=input_shape, name="inputs")
    outputs = []
    for index, member in enumerate(members):
        # Sub-models are layers of the average, and layer names must be unique within a model.
        member.name = f"{part}_{index + 1}"
        outputs.append(member(inputs))
    averaged = keras.layers.Average(name="average")(outputs)
    return keras.Model(inputs, averaged, name=name)


def ensemble_model(members: list[Any], input_shape: tuple[int, ...]) -> Any:
    """One Keras model averaging the outputs of ``members`` (two or more, all of one dataset, so of one
    output shape; :func:`automl.retrain.retrain_study` checks ``top_k`` before training any)."""
    return average_model(members, input_shape, name="ensemble", part="member")


def save_retrained(
    out_dir: Path,
    model: Any,
    preprocessor: Any,
    *,
    config: dict[str, Any],
    history: dict[str, Any],
    report: DatasetRetrain,
    dataset: Dataset,
) -> None:
    """Write the deployed model and what describes it into ``out_dir``: ``model.keras``,
    ``preprocessor.joblib``, ``config.json``, ``history.json``, ``metrics.json`` and ``dataset.json``."""
    with writing(out_dir, resume=False):  # a full disk: one line naming the folder (DiskFull)
        out_dir.mkdir(parents=True, exist_ok=True)
        model.save(out_dir / "model.keras")
        if preprocessor is not None:
            preprocessor.save(out_dir / "preprocessor.joblib")
        (out_dir / "config.json").write_text(json.dumps(config, indent=2) + "\n")
        (out_dir / "history.json").write_text(json.dumps(history, indent=2, default=float) + "\n")
        (out_dir / "metrics.json").write_text(json.dumps(report.to_dict(), indent=2, default=str) + "\n")
        (out_dir / "dataset.json").write_text(
            json.dumps({**dataset.summary(), "class_names": dataset.class_names}) + "\n"
        )
