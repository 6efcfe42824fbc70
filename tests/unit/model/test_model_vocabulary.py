"""What a space may name, the model builders build: the vocabulary and the builders agree."""

from __future__ import annotations

from automl.model._config import ACTIVATIONS, OPTIMIZERS, SCHEDULES
from automl.space._vocab import FAMILIES, KNOWN_VALUES


def test_every_word_a_space_accepts_is_one_the_builders_accept() -> None:
    assert KNOWN_VALUES["activation"] == set(ACTIVATIONS)  # sigmoid was accepted by spaces, refused by builds
    assert KNOWN_VALUES["optimizer"] == set(OPTIMIZERS)
    assert KNOWN_VALUES["lr_schedule"] == set(SCHEDULES)


def test_hold_epochs_is_a_parameter_of_both_families() -> None:
    assert all("hold_epochs" in names for names in FAMILIES.values())


def test_a_sigmoid_mlp_builds() -> None:
    from automl.datasets import load_dataset
    from automl.model import build_model, count_params

    digits = load_dataset("digits", seed=0)
    config = {"depth": 1, "units": 16, "activation": "sigmoid"}
    model = build_model(config, digits)
    assert model.count_params() == count_params(config, digits) == 8 * 8 * 16 + 16 + 16 * 10 + 10
    assert "sigmoid" in {
        getattr(layer, "activation", lambda: None).__name__
        for layer in model.layers
        if hasattr(layer, "activation")
    }
