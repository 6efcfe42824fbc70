"""count_params / estimate_memory: the documented formula, without TensorFlow."""

from __future__ import annotations

import pytest

from automl.model import count_params, estimate_memory


def test_memory_formula_by_hand(cancer) -> None:
    # 30 inputs → Dense(10) → relu → Dense(1): P = T = 30·10 + 10 + 10 + 1 = 321.
    config = {"depth": 1, "units_0": 10, "optimizer": "sgd", "batch_size": 8}
    assert count_params(config, cancer) == 321
    per_example = 30 + 10 + 10 + 1  # input, dense, activation, output
    assert estimate_memory(config, cancer) == 4 * (321 + 321 * 1 + 2 * 8 * per_example)
    adam = estimate_memory({**config, "optimizer": "adam"}, cancer)
    assert adam - estimate_memory(config, cancer) == 4 * 2 * 321  # two moment slots per weight


def test_memory_grows_with_the_batch(digits) -> None:
    config = {"blocks": 2, "filters_0": 8, "filters_1": 16}
    small = estimate_memory(config, digits, batch_size=16)
    large = estimate_memory(config, digits, batch_size=256)
    assert large > small > 4 * count_params(config, digits)


def test_batch_norm_weights_count_but_only_half_train(cancer) -> None:
    plain = count_params({"depth": 1, "units_0": 10}, cancer)
    normed = count_params({"depth": 1, "units_0": 10, "batch_norm": True}, cancer)
    assert normed == plain - 10 + 4 * 10  # bias dropped, gamma/beta/mean/variance added
    assert estimate_memory({"depth": 1, "units_0": 10, "batch_norm": True}, cancer) > 0


@pytest.mark.parametrize("batch_size", [0, -1])
def test_bad_batch_size_in_config(cancer, batch_size) -> None:
    from automl.exceptions import ConfigError

    with pytest.raises(ConfigError, match="batch_size"):
        estimate_memory({"batch_size": batch_size}, cancer)
