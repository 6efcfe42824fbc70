"""Predictions go in chunks sized by the model's layer outputs: a wide convolutional network predicts a few
hundred rows at once (4,096 images took gigabytes), a small MLP thousands; the outputs are the same."""

from __future__ import annotations

import numpy as np

from automl.model import build_model, plan_for
from automl.retrain._final import ensemble_model
from automl.training import PREDICT_BYTES, activations_per_row, predict, rows_per_chunk

CNN = {"family": "cnn", "blocks": 2, "filters_0": 16, "filters_1": 32, "head": "flatten", "dense_units": 32}
MLP = {"family": "mlp", "depth": 2, "units_0": 32, "units_1": 16}


def test_a_models_values_per_row_are_those_its_config_plans(digits):
    for config in (CNN, MLP):
        model = build_model(config, digits)
        assert activations_per_row(model) == plan_for(config, digits).activations_per_example > 0
    # An ensemble holds its members' outputs for the same rows (and its own average).
    members = [build_model(CNN, digits), build_model(MLP, digits)]
    values = sum(activations_per_row(m) for m in members)
    assert values <= activations_per_row(ensemble_model(members, digits.input_shape)) <= values + 200


def test_a_chunk_holds_at_most_the_budget_of_layer_outputs():
    assert rows_per_chunk(479_274, most=4096) == 140  # the two-block cnn of 64 and 128 filters on 28x28
    assert rows_per_chunk(500, most=4096) == 4096  # a small MLP: the cap
    assert rows_per_chunk(10**10, most=4096) == 1
    assert rows_per_chunk(1000, most=4096) * 4 * 1000 <= PREDICT_BYTES


def test_the_chunks_change_no_prediction(digits):
    model = build_model(CNN, digits)
    x = np.concatenate([digits.x_train, digits.x_val])
    np.testing.assert_allclose(predict(model, x), predict(model, x, chunk=len(x)), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(predict(model, x, chunk=7), predict(model, x), rtol=1e-5, atol=1e-6)
