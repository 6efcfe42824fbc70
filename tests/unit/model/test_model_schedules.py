"""Learning-rate schedules are a pure function of (config, epoch, budget)."""

from __future__ import annotations

import math
import subprocess
import sys

import pytest

from automl.exceptions import ConfigError
from automl.model import learning_rate_at


def lr(schedule: str, epoch: int, total: int = 100, **params: float) -> float:
    return learning_rate_at({"learning_rate": 0.1, "lr_schedule": schedule, **params}, epoch, total)


def test_constant_and_missing_schedule_keep_the_rate() -> None:
    assert lr("constant", 0) == lr("constant", 99) == 0.1
    assert learning_rate_at({"learning_rate": 0.02}, 7, 10) == 0.02


def test_plateau_is_constant_as_a_function_of_epoch() -> None:
    assert lr("plateau", 60, plateau_patience=3) == 0.1


def test_step_multiplies_by_decay_rate_every_decay_every_epochs() -> None:
    values = [lr("step", e, decay_rate=0.5, decay_every=10) for e in (0, 9, 10, 19, 20, 35)]
    assert values == pytest.approx([0.1, 0.1, 0.05, 0.05, 0.025, 0.0125])


def test_piecewise_drops_at_half_and_three_quarters_of_the_budget() -> None:
    values = [lr("piecewise", e, piecewise_drop=0.1) for e in (0, 49, 50, 74, 75, 99)]
    assert values == pytest.approx([0.1, 0.1, 0.01, 0.01, 0.001, 0.001])


def test_exponential_is_smooth_and_reaches_decay_rate_at_the_end() -> None:
    assert lr("exponential", 0, decay_rate=0.2) == pytest.approx(0.1)
    assert lr("exponential", 50, decay_rate=0.2) == pytest.approx(0.1 * math.sqrt(0.2))
    assert lr("exponential", 100, decay_rate=0.2) == pytest.approx(0.02)


def test_cosine_goes_from_lr0_to_the_floor() -> None:
    assert lr("cosine", 0, cosine_min_fraction=0.1) == pytest.approx(0.1)
    assert lr("cosine", 50, cosine_min_fraction=0.1) == pytest.approx(0.1 * (0.1 + 0.9 * 0.5))
    assert lr("cosine", 100, cosine_min_fraction=0.1) == pytest.approx(0.01)
    values = [lr("cosine", e) for e in range(100)]
    assert values == sorted(values, reverse=True)


def test_warmup_hold_decay_phases() -> None:
    params = {"warmup_epochs": 4, "decay_rate": 0.1}
    warm = [lr("warmup_hold_decay", e, **params) for e in range(5)]
    assert warm == pytest.approx([0.02, 0.04, 0.06, 0.08, 0.1])  # lr0 · (e + 1) / (warmup + 1)
    assert lr("warmup_hold_decay", 49, **params) == pytest.approx(0.1)  # hold until 50 %
    assert lr("warmup_hold_decay", 75, **params) == pytest.approx(0.1 * 0.1**0.5)
    assert lr("warmup_hold_decay", 100, **params) == pytest.approx(0.01)


def test_the_curve_depends_on_the_budget_not_on_the_epochs_run() -> None:
    config = {"learning_rate": 0.1, "lr_schedule": "cosine", "epochs": 30}
    assert learning_rate_at(config, 12, 30) == learning_rate_at(dict(config), 12, 30)
    assert lr("cosine", 200, total=100) == lr("cosine", 100, total=100)  # past the budget: stays at the end


def test_bad_values_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="lr_schedule"):
        lr("triangle", 0)
    with pytest.raises(ConfigError, match="decay_rate"):
        lr("step", 0, decay_rate=2.0)
    with pytest.raises(ValueError, match="total_epochs"):
        lr("constant", 0, total=0)


def test_pure_parts_import_no_keras() -> None:
    code = (
        "import sys; import automl.model as m; "
        "m.learning_rate_at({'lr_schedule': 'cosine'}, 1, 10); "
        "assert 'keras' not in sys.modules and 'tensorflow' not in sys.modules, 'keras imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
