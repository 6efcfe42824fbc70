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


@pytest.mark.parametrize(
    ("name", "seeds"),
    [
        ("mlp", range(4)),
        ("cnn", range(2)),
        ("tiny", range(2)),
        ("compact", range(2)),
        ("midsize", range(2)),
        # More samples of the widest spaces: each takes seconds, so they wait for the slow suite.
        pytest.param("mlp", range(4, 12), marks=pytest.mark.slow),
        pytest.param("cnn", range(2, 8), marks=pytest.mark.slow),
        pytest.param("compact", range(2, 6), marks=pytest.mark.slow),
        pytest.param("midsize", range(2, 6), marks=pytest.mark.slow),
    ],
)
def test_sampled_configs_build_and_train(small_digits, name, seeds):
    space = load_space(name)
    for seed in seeds:
        config = space.sample(seed)
        result = train(config, small_digits, epochs=1, seed=seed, family=space.family)
        # A random config may legitimately diverge; anything else (a crash, a timeout) is a bug.
        assert result.failure in (None, "nan_loss"), (config, result.failure_detail)
        assert result.epochs_run == 1 and result.n_params > 0
