"""build_model: architectures, output layers and losses per task, optimizers, and configuration errors."""

from __future__ import annotations

import numpy as np
import pytest

from automl._keras import keras
from automl.exceptions import ConfigError
from automl.model import build_model, count_params, infer_family, make_optimizer

TINY = {
    "depth": 1,
    "units_0": 8,
    "activation": "relu",
    "l2": 1e-5,
    "optimizer": "adam",
    "learning_rate": 0.01,
}
CNN = {
    "blocks": 3,
    "filters_0": 4,
    "filters_1": 8,
    "filters_2": 8,
    "dense_units": 16,
    "batch_norm": True,
    "dropout": 0.2,
    "l2": 1e-5,
    "head": "flatten",
    "pooling": "max",
}


@pytest.mark.parametrize(
    ("fixture", "units", "activation", "loss"),
    [
        ("cancer", 1, "sigmoid", "binary_crossentropy"),
        ("digits", 10, "softmax", "sparse_categorical_crossentropy"),
        ("diabetes", 1, "linear", "mean_squared_error"),
    ],
)
def test_output_layer_and_loss_follow_the_task(request, fixture, units, activation, loss) -> None:
    dataset = request.getfixturevalue(fixture)
    model = build_model(TINY, dataset, seed=0)
    out = model.get_layer("output")
    assert out.units == units and out.activation.__name__ == activation
    assert out.dtype_policy.compute_dtype == "float32"
    assert model.loss == loss
    assert model.output_shape == (None, units)


def test_mlp_flattens_images_and_stacks_the_configured_layers(digits) -> None:
    config = {
        "depth": 2,
        "units_0": 16,
        "units_1": 8,
        "batch_norm": True,
        "dropout": 0.1,
        "activation": "selu",
        "selu_style": "self_normalising",
        "l1": 1e-6,
        "l2": 1e-5,
    }
    model = build_model(config, digits, seed=0)
    kinds = [type(layer).__name__ for layer in model.layers]
    assert kinds == [
        "InputLayer",
        "Flatten",
        "Dense",
        "BatchNormalization",
        "Activation",
        "AlphaDropout",
        "Dense",
        "BatchNormalization",
        "Activation",
        "AlphaDropout",
        "Dense",
    ]
    dense = model.layers[2]
    assert dense.kernel_initializer.__class__.__name__ == "LecunNormal"
    assert not dense.use_bias  # batch norm supplies the shift
    assert isinstance(dense.kernel_regularizer, keras.regularizers.L1L2)


def test_selu_trains_with_standard_weights_and_dropout_unless_asked(digits) -> None:
    config = {"depth": 1, "units": 16, "dropout": 0.2, "activation": "selu"}
    kinds = [type(layer).__name__ for layer in build_model(config, digits, seed=0).layers]
    assert "Dropout" in kinds and "AlphaDropout" not in kinds
    dense = build_model(config, digits, seed=0).layers[2]
    assert dense.kernel_initializer.__class__.__name__ == "GlorotUniform"
    relu = build_model({**config, "activation": "relu", "selu_style": "self_normalising"}, digits, seed=0)
    assert "AlphaDropout" not in [type(layer).__name__ for layer in relu.layers], "selu layers only"


def test_cnn_on_digits_pools_down_to_one_cell_and_skips_beyond(digits) -> None:
    model = build_model(CNN, digits, seed=0)
    pools = [layer for layer in model.layers if "Pooling" in type(layer).__name__]
    assert [p.output.shape[1:3] for p in pools] == [(4, 4), (2, 2), (1, 1)]
    deeper = build_model({**CNN, "blocks": 4, "filters_3": 8}, digits, seed=0)
    assert sum("Pooling" in type(layer).__name__ for layer in deeper.layers) == 3  # 1x1 is not pooled
    assert deeper.output_shape == (None, 10)
    history = model.fit(digits.x_train[:128], digits.y_train[:128], epochs=1, batch_size=32, verbose=0)
    assert np.isfinite(history.history["loss"][0])


def test_cnn_on_a_tabular_dataset_names_the_fix(cancer) -> None:
    with pytest.raises(ConfigError) as error:
        build_model(CNN, cancer)
    message = str(error.value)
    assert "use an MLP space such as mlp or tiny" in message and "\n" not in message
    with pytest.raises(ConfigError):
        count_params(TINY, cancer, family="cnn")


def test_family_is_inferred_from_the_keys() -> None:
    assert infer_family({"blocks": 2}) == "cnn"
    assert infer_family({"depth": 2}) == "mlp"
    assert infer_family({"blocks": 2}, "mlp") == "mlp"
    with pytest.raises(ConfigError, match="family"):
        infer_family({}, "rnn")


@pytest.mark.parametrize(
    "config",
    [
        TINY,
        {"depth": 3, "units_0": 32, "units_1": 16, "units_2": 8, "batch_norm": True, "dropout": 0.3},
        {"units": 12, "depth": 2},
        {},
        CNN,
        {
            **CNN,
            "head": "global_average",
            "convs_per_block": 2,
            "kernel_size": 5,
            "pooling": "average",
            "batch_norm": False,
        },
    ],
)
def test_count_params_matches_keras_without_building(digits, config) -> None:
    assert count_params(config, digits) == build_model(config, digits).count_params()


def test_optional_keys_default_sensibly(cancer) -> None:
    model = build_model({"depth": 1, "units_0": 4}, cancer)  # no l1 / l2 / activation / optimizer
    dense = model.layers[1]
    assert dense.kernel_regularizer is None and dense.use_bias
    assert isinstance(model.optimizer, keras.optimizers.Adam)


@pytest.mark.parametrize(
    ("config", "match"),
    [
        ({"activation": "sigmoidal"}, "activation"),
        ({"depth": 2, "units_0": 8}, "units_1"),
        ({"depth": 1, "units_0": 0}, "units_0"),
        ({"optimizer": "lbfgs"}, "optimizer"),
        ({"dropout": 1.5}, "dropout"),
    ],
)
def test_bad_configs_are_config_errors(cancer, config, match) -> None:
    with pytest.raises(ConfigError, match=match):
        build_model(config, cancer)


def test_optimizers_take_the_configured_momentum() -> None:
    sgd = make_optimizer({"optimizer": "sgd", "momentum": 0.8, "learning_rate": 0.05})
    assert isinstance(sgd, keras.optimizers.SGD) and sgd.momentum == 0.8 and not sgd.nesterov
    rms = make_optimizer({"optimizer": "rmsprop", "momentum": 0.5})
    assert isinstance(rms, keras.optimizers.RMSprop) and rms.momentum == 0.5
    assert isinstance(make_optimizer({"optimizer": "adamw"}), keras.optimizers.AdamW)
    assert float(sgd.learning_rate.numpy()) == pytest.approx(0.05)


def test_the_optimizer_starts_at_the_schedules_first_rate(cancer) -> None:
    config = {**TINY, "lr_schedule": "warmup_hold_decay", "warmup_epochs": 3, "learning_rate": 0.04}
    model = build_model(config, cancer)
    assert float(model.optimizer.learning_rate.numpy()) == pytest.approx(0.01)


def test_same_seed_same_initial_weights(cancer) -> None:
    first = build_model(TINY, cancer, seed=3).get_weights()
    second = build_model(TINY, cancer, seed=3).get_weights()
    assert all(np.array_equal(a, b) for a, b in zip(first, second, strict=True))
