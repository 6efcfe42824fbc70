"""Every config sampled from every shipped space builds and trains (1 epoch, tiny data)."""

import dataclasses

import pytest

from automl import load_space, train
from automl.datasets import load_dataset


@pytest.fixture(scope="module")
def small_digits():
    full = load_dataset("digits", seed=0)
    return dataclasses.replace(
        full,
        x_train=full.x_train[:200],
        y_train=full.y_train[:200],
        x_val=full.x_val[:100],
        y_val=full.y_val[:100],
    )


@pytest.mark.parametrize(("name", "seeds"), [("mlp", range(10)), ("cnn", range(6)), ("tiny", range(4)), ("compact", range(4))])
def test_sampled_configs_build_and_train(small_digits, name, seeds):
    space = load_space(name)
    for seed in seeds:
        config = space.sample(seed)
        result = train(config, small_digits, epochs=1, seed=seed, family=space.family)
        # A random config may legitimately diverge; anything else (a crash, a timeout) is a bug.
        assert result.failure in (None, "nan_loss"), (config, result.failure_detail)
        assert result.epochs_run == 1 and result.n_params > 0
