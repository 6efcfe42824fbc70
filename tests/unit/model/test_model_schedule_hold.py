"""``warmup_hold_decay`` with ``hold_epochs``: hold the rate, then multiply it by ``decay_rate`` every epoch."""

from __future__ import annotations

import pytest

from automl.exceptions import ConfigError
from automl.model import learning_rate_at
from automl.space import Fixed, Int, SearchSpace


def lr(epoch: int, total: int = 40, **params: float) -> float:
    config = {"learning_rate": 0.1, "lr_schedule": "warmup_hold_decay", **params}
    return learning_rate_at(config, epoch, total)


def test_hold_then_multiply_by_the_rate_every_epoch() -> None:
    params = {"warmup_epochs": 0, "hold_epochs": 10, "decay_rate": 0.95}
    assert [lr(e, **params) for e in range(10)] == pytest.approx([0.1] * 10)
    assert lr(10, **params) == pytest.approx(0.1 * 0.95)
    assert lr(11, **params) == pytest.approx(0.1 * 0.95**2)
    assert lr(39, **params) == pytest.approx(0.1 * 0.95**30)
    # Per epoch, not spread over the budget: a longer budget does not change the curve.
    assert lr(25, total=200, **params) == pytest.approx(lr(25, total=40, **params))


def test_the_hold_starts_after_the_warm_up() -> None:
    params = {"warmup_epochs": 2, "hold_epochs": 3, "decay_rate": 0.5}
    values = [lr(e, **params) for e in range(7)]
    assert values == pytest.approx([0.1 / 3, 0.2 / 3, 0.1, 0.1, 0.1, 0.05, 0.025])


def test_zero_hold_decays_from_the_first_epoch_after_warm_up() -> None:
    assert lr(0, warmup_epochs=0, hold_epochs=0, decay_rate=0.9) == pytest.approx(0.09)


def test_without_hold_epochs_the_budget_relative_decay_is_unchanged() -> None:
    params = {"warmup_epochs": 4, "decay_rate": 0.1}
    assert lr(49, total=100, **params) == pytest.approx(0.1)  # hold until half the budget
    assert lr(75, total=100, **params) == pytest.approx(0.1 * 0.1**0.5)
    assert lr(100, total=100, **params) == pytest.approx(0.01)
    assert lr(60, total=100, hold_epochs=None, **params) == lr(60, total=100, **params)


def test_bad_hold_epochs_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="hold_epochs"):
        lr(5, hold_epochs=-1)
    with pytest.raises(ConfigError, match="hold_epochs"):
        lr(5, hold_epochs=2.5)


def test_a_space_may_search_hold_epochs() -> None:
    space = SearchSpace(
        name="hold",
        parameters=[
            Fixed("lr_schedule", "warmup_hold_decay"),
            Int("hold_epochs", 0, 10, active_if={"lr_schedule": ["warmup_hold_decay"]}),
        ],
    )
    config = space.sample(0)
    assert 0 <= config["hold_epochs"] <= 10
    assert learning_rate_at({**config, "learning_rate": 0.1}, 40, 50) < 0.1
