"""The retrained model as users receive it: a :class:`Predictor` on raw rows, saved and loaded."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from automl.exceptions import UserError

if TYPE_CHECKING:
    from automl.datasets import Preprocessor

__all__ = ["Predictor", "load_model"]


class Predictor:
    """A retrained model joined with its fitted preprocessing: predictions on raw inputs.

    What :meth:`automl.AutoMLSearch.retrain` returns and :func:`automl.load_model` loads. ``predict`` gives
    class labels as in the training data, or regression values in original units; ``predict_proba``
    gives class probabilities ``(n, k)``; ``score`` is scikit-learn's default (accuracy, or R²). The
    Keras model is ``.model`` (it expects preprocessed inputs; ``model.keras`` on disk loads with plain
    Keras).
    """

    def __init__(self, model: Any, preprocessor: Preprocessor | None, *, task: str) -> None:
        self.model = model
        self.preprocessor = preprocessor
        self.task = task

    @property
    def classes_(self) -> tuple[str, ...] | None:
        """The class names in ``predict_proba``'s column order (None for regression or unknown)."""
        return None if self.preprocessor is None else self.preprocessor.class_names_

    def __repr__(self) -> str:
        return (
            f"Predictor(task={self.task!r}, model={getattr(self.model, 'name', type(self.model).__name__)!r})"
        )

    def _outputs(self, raw: Any) -> np.ndarray:
        from automl.training import predict

        inputs = (
            np.asarray(raw, dtype="float32")
            if self.preprocessor is None
            else self.preprocessor.transform(raw)
        )
        return predict(self.model, inputs)

    def predict_proba(self, raw: Any) -> np.ndarray:
        from automl.metrics import probabilities

        if self.task == "regression":
            raise UserError("predict_proba applies to classification; this model predicts values")
        return probabilities(self._outputs(raw))

    def predict(self, raw: Any) -> np.ndarray:
        output = self._outputs(raw)
        if self.task == "regression":
            values = output.reshape(-1)
            return values if self.preprocessor is None else self.preprocessor.inverse_target(values)
        from automl.metrics import probabilities

        labels = probabilities(output).argmax(axis=1)
        return labels if self.preprocessor is None else self.preprocessor.decode_labels(labels)

    def score(self, raw: Any, y: Any) -> float:
        """Accuracy for classification, R² for regression, on raw rows and labels as in the training data."""
        from sklearn.metrics import accuracy_score, r2_score

        truth = np.asarray(y).reshape(-1)
        predicted = self.predict(raw)
        if self.task == "regression":
            return float(r2_score(truth.astype(float), predicted))
        try:
            return float(accuracy_score(truth, predicted))
        except (TypeError, ValueError):  # labels given as text for numbers, or the other way round
            return float(accuracy_score(truth.astype(str), np.asarray(predicted).astype(str)))


def load_model(run_dir: str | Path, dataset: str) -> Predictor:
    """The retrained model of ``dataset`` in a run, as a :class:`Predictor` on raw inputs.

    Raises:
        UserError: the run has no retrained model for that dataset (names the command that makes one).
    """
    from automl._keras import keras
    from automl.datasets import Preprocessor

    folder = Path(run_dir) / "models" / dataset
    if not (folder / "model.keras").exists():
        available = sorted(
            p.name for p in (Path(run_dir) / "models").glob("*") if (p / "model.keras").exists()
        )
        hint = f" (retrained: {', '.join(available)})" if available else ""
        raise UserError(
            f"no retrained model for dataset {dataset!r} in {run_dir}{hint}; run `automl retrain {run_dir}`"
        )
    info = json.loads((folder / "dataset.json").read_text())
    model = keras.models.load_model(folder / "model.keras")
    return Predictor(model, Preprocessor.load(folder / "preprocessor.joblib"), task=info["task"])
