"""The fit's input: compact rows (uint8) are cast to float32 a batch at a time; generated sets of the
classics' shapes are learnable (a tiny model beats chance clearly in two epochs)."""

from __future__ import annotations

import numpy as np
import pytest

from automl._keras import keras
from automl.datasets._synthetic import fashion_like_dataset, imdb_like_dataset
from automl.training import _pipeline, train
from automl.training._pipeline import HeldOutPredictor, fit_data


@pytest.fixture(scope="module")
def fashion():
    return fashion_like_dataset(2000, 200, seed=0)


@pytest.mark.parametrize("gather", [False, True], ids=["element-shuffle", "index-gather"])
def test_fit_data_casts_each_batch_and_keeps_every_row(gather: bool, monkeypatch) -> None:
    if gather:
        monkeypatch.setattr(_pipeline, "_ELEMENT_SHUFFLE_BYTES", 0)
    x = np.arange(300 * 4, dtype=np.uint8).reshape(300, 4) % 251
    y = np.arange(300, dtype=np.int64)
    batches = list(fit_data(x, y, 64, seed=0))
    assert [len(b[1]) for b in batches] == [64, 64, 64, 64, 44]
    assert all(
        keras.ops.convert_to_numpy(xb).dtype == np.float32
        and keras.ops.convert_to_numpy(yb).dtype == np.int64
        for xb, yb in batches
    )
    xs = np.concatenate([np.asarray(xb) for xb, _ in batches])
    ys = np.concatenate([np.asarray(yb) for _, yb in batches])
    assert sorted(ys) == list(range(300)) and list(ys) != list(range(300))  # every row once, shuffled
    np.testing.assert_array_equal(xs, x[ys].astype(np.float32))  # rows and labels stay together


def test_held_out_rows_stay_uint8_until_predicted(fashion) -> None:
    predictor = HeldOutPredictor(fashion.x_val, 128)
    assert all(keras.ops.convert_to_numpy(chunk).dtype == np.uint8 for chunk in predictor.chunks)
    model = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten(), keras.layers.Dense(3)])
    np.testing.assert_allclose(
        predictor(model), np.asarray(model(fashion.x_val.astype(np.float32))), rtol=1e-6
    )


def test_generated_images_are_learnable_in_two_epochs(fashion) -> None:
    config = {"family": "mlp", "depth": 1, "units": 32, "batch_size": 64, "learning_rate": 3e-3, "epochs": 2}
    result = train(config, fashion, seed=0)
    assert result.model.layers[1].name == "rescale"  # the model divides the uint8 pixels itself
    assert result.best_score > 0.3, result.history  # chance: 0.1 (0.41-0.65 over seeds 0-2)


def test_generated_reviews_are_learnable_in_two_epochs() -> None:
    imdb = imdb_like_dataset(2000, 200, seed=0)
    config = {"family": "mlp", "depth": 1, "units": 16, "batch_size": 64, "learning_rate": 3e-3, "epochs": 2}
    result = train(config, imdb, seed=0)
    assert result.best_score > 0.65, result.history  # chance: 0.5 (0.80-0.82 over seeds 0-2)
