import numpy as np
import pytest

from automl.exceptions import SpaceError
from automl.space import Bool, Choice, Fixed, Float, Int


@pytest.mark.parametrize(
    ("make", "fragment"),
    [
        (lambda: Int("depth", 5, 1), "`low <= high` must hold, but got low=5, high=1"),
        (lambda: Float("lr", 0.0, 1.0, log=True), "`log: true` needs low > 0"),
        (lambda: Float("lr", 1e-4, 1.0, log=True, step=0.1), "`log` and `step` cannot be used together"),
        (lambda: Int("depth", 1.5, 3), "depth.low: must be an integer"),
        (lambda: Float("dropout", 0.0, 0.5, step=-0.1), "dropout.step: must be > 0"),
        (lambda: Float("dropout", 0.0, 0.5, default=0.9), "dropout.default: 0.9 is outside float [0, 0.5]"),
        (lambda: Choice("activation", ()), "must list at least one value"),
        (lambda: Choice("activation", ("relu", "relu")), "duplicate values ['relu']"),
        (lambda: Choice("activation", ("relu",), default="tanh"), "'tanh' is not one of ['relu']"),
        (lambda: Bool("batch_norm", default="yes"), "must be true or false"),
        (lambda: Int("bad name", 1, 2), "must be an identifier"),
    ],
)
def test_invalid_parameters_raise_space_error_with_values(make, fragment):
    with pytest.raises(SpaceError) as info:
        make()
    assert fragment in str(info.value)


def test_int_log_sampling_stays_in_range_and_favours_small_values():
    p = Int("units", 16, 512, log=True)
    rng = np.random.default_rng(0)
    values = [p.sample(rng) for _ in range(2000)]
    assert all(isinstance(v, int) and 16 <= v <= 512 for v in values)
    # Under a log-uniform law the geometric midpoint (~90) splits the mass in half.
    below = np.mean(np.array(values) < 90.5)
    assert 0.45 < below < 0.55


def test_step_restricts_to_grid():
    p = Float("dropout", 0.0, 0.5, step=0.1)
    assert p.grid() == pytest.approx([0.0, 0.1, 0.2, 0.3, 0.4, 0.5])
    rng = np.random.default_rng(1)
    assert all(p.contains(p.sample(rng)) for _ in range(50))
    assert not p.contains(0.15)


def test_contains_rejects_wrong_types():
    assert not Int("depth", 1, 4).contains(2.5)
    assert Int("depth", 1, 4).contains(2.0)
    assert not Int("depth", 1, 4).contains(True)
    assert not Choice("batch_size", (16, 32)).contains(True)
    assert Choice("batch_size", (16, 32)).contains(32)
    assert not Bool("batch_norm").contains(1)
    assert Fixed("epochs", 10).contains(10) and not Fixed("epochs", 10).contains(11)


def test_defaults_fall_inside_domain():
    assert Int("depth", 1, 4).default_value in range(1, 5)
    assert Float("lr", 1e-4, 1e-2, log=True).default_value == pytest.approx(1e-3)
    assert Choice("activation", ("relu", "tanh")).default_value == "relu"
    assert Fixed("epochs", 7).default_value == 7


def test_to_dict_round_trips_through_constructor():
    p = Float("momentum", 0.0, 0.99, default=0.9, active_if={"optimizer": ["sgd"]})
    d = p.to_dict()
    assert d == {
        "type": "float",
        "low": 0.0,
        "high": 0.99,
        "default": 0.9,
        "active_if": {"optimizer": ["sgd"]},
    }
    kwargs = {k: v for k, v in d.items() if k != "type"}
    assert Float("momentum", **kwargs) == p
