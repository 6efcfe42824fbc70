"""Compact (uint8) image inputs: the plan and the model start with a layer dividing by the training maximum."""

from __future__ import annotations

import numpy as np

from automl.datasets._synthetic import fashion_like_dataset
from automl.model import build_model, count_params
from automl.model._architecture import plan_for


def test_uint8_images_get_a_rescaling_first_layer() -> None:
    dataset = fashion_like_dataset(200, 20, seed=0)
    config = {"family": "cnn", "blocks": 1, "filters": 4, "dense_units": 8}
    assert [layer.kind for layer in plan_for(config, dataset).layers][:2] == ["rescale", "conv"]
    model = build_model(config, dataset)
    assert model.layers[1].name == "rescale" and count_params(config, dataset) == model.count_params()
    pixels = dataset.x_val[:4]
    np.testing.assert_allclose(
        np.asarray(model.layers[1](pixels.astype(np.float32))), dataset.float_inputs(pixels), rtol=1e-6
    )


def test_float_inputs_get_no_rescaling(digits) -> None:
    assert digits.input_scale == 1.0
    assert "rescale" not in [layer.kind for layer in plan_for({"family": "mlp"}, digits).layers]
