"""A model trained on compact (uint8) images, saved as ``model.keras`` beside its preprocessor, predicts raw
images as it did in training: its first layer divides by the training maximum, whatever the raw dtype."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from automl._keras import keras
from automl.datasets import Preprocessor
from automl.datasets._synthetic import fashion_like, fashion_like_dataset
from automl.retrain import Predictor
from automl.training import predict, train


def test_saved_model_and_preprocessor_predict_raw_images(tmp_path: Path) -> None:
    dataset = fashion_like_dataset(1000, 100, seed=0)
    config = {"family": "mlp", "depth": 1, "units": 16, "batch_size": 64, "epochs": 1}
    model = train(config, dataset, seed=0).model
    model.save(tmp_path / "model.keras")
    dataset.preprocessor.save(tmp_path / "preprocessor.joblib")
    loaded = Predictor(
        keras.models.load_model(tmp_path / "model.keras", safe_mode=True),
        Preprocessor.load(tmp_path / "preprocessor.joblib"),
        task="multiclass",
    )
    raw = fashion_like(1000, 100, seed=0)[2]  # the official test images, as read
    expected = predict(model, dataset.x_test)
    np.testing.assert_allclose(loaded.predict_proba(raw), expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(loaded.predict_proba(raw.astype(np.float64)), expected, rtol=1e-5, atol=1e-6)
    # The same values the float32 preprocessing gave before: pixels / 255 through the layers after rescale.
    inner = keras.Model(model.layers[2].input, model.output)
    np.testing.assert_allclose(predict(inner, dataset.float_inputs(dataset.x_test)),
                               expected, rtol=1e-5, atol=1e-6)  # fmt: skip
