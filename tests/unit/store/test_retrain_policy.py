"""The retrain policy checks its seven values once, when it is made: one test per rule, each refusal one
line naming the Python argument; the experiment file's wording of it names the key."""

from __future__ import annotations

import dataclasses

import pytest

from automl.exceptions import UserError
from automl.store import RetrainPolicy, RetrainPolicyError


def refusal(**values) -> RetrainPolicyError:
    with pytest.raises(RetrainPolicyError) as info:
        RetrainPolicy(**values)
    assert isinstance(info.value, UserError) and "\n" not in str(info.value)
    return info.value


def test_the_defaults_and_every_value_in_range_are_accepted():
    assert RetrainPolicy() == RetrainPolicy(None, 1, "best", False, "auto", "auto", "auto")
    RetrainPolicy(top_k=5, seeds=3, epochs=12, final_fit=True, ensemble=False, bag=False)
    RetrainPolicy(top_k=2, ensemble=True, bag=True)
    # `auto` gives way to a final fit (deploy_plan and bag_folds decide): no contradiction.
    RetrainPolicy(final_fit=True, ensemble="auto", bag="auto")
    RetrainPolicy(top_k=1, ensemble="auto")


def test_the_policy_is_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        RetrainPolicy().seeds = 2  # type: ignore[misc]


@pytest.mark.parametrize("top_k", [0, -1, 2.5, True, "3"])
def test_top_k_is_a_whole_number_of_at_least_1(top_k):
    error = refusal(top_k=top_k)
    assert str(error) == f"`top_k` must be at least 1, but got {top_k!r}"
    assert (error.key, error.in_file) == ("top_k", f"top_k must be at least 1, but got {top_k!r}")


@pytest.mark.parametrize("seeds", [0, 1.5, None, False])
def test_seeds_is_a_whole_number_of_at_least_1(seeds):
    error = refusal(seeds=seeds)
    assert str(error) == f"`seeds` must be at least 1, but got {seeds!r}"
    assert (error.key, error.in_file) == ("seeds", f"seeds must be at least 1, but got {seeds!r}")


@pytest.mark.parametrize("epochs", ["soon", "max", 0, -3, 2.0, True])
def test_epochs_is_best_or_a_positive_number(epochs):
    error = refusal(epochs=epochs)
    assert str(error) == f"`epochs` must be 'best' or a positive number of epochs, but got {epochs!r}"
    assert error.key == "epochs"


def test_final_fit_is_true_or_false():
    error = refusal(final_fit="yes")
    assert str(error) == "`final_fit` takes true or false, not 'yes'"
    assert (error.key, error.in_file) == ("final_fit", "give true or false, not 'yes'")


@pytest.mark.parametrize("value", ["yes", 1, None])
def test_ensemble_is_true_false_or_auto(value):
    error = refusal(ensemble=value)
    assert str(error) == f"`ensemble` takes true, false or 'auto', not {value!r}"
    assert (error.key, error.in_file) == ("ensemble", f"give true, false or auto, not {value!r}")


@pytest.mark.parametrize("value", ["maybe", 0])
def test_bag_is_true_false_or_auto(value):
    error = refusal(bag=value)
    assert str(error) == f"`bag` takes true, false or 'auto', not {value!r}"
    assert (error.key, error.in_file) == ("bag", f"give true, false or auto, not {value!r}")


def test_final_fit_and_an_ensemble_are_one_choice():
    error = refusal(final_fit=True, ensemble=True, top_k=2)
    assert str(error) == error.in_file == "`final_fit` and `ensemble` deploy different models: choose one"
    assert error.key is None


def test_final_fit_and_a_bag_are_one_choice():
    error = refusal(final_fit=True, bag=True)
    assert str(error) == error.in_file == "`final_fit` and `bag` deploy different models: choose one"
    assert error.key is None


def test_an_ensemble_needs_two_configs():
    error = refusal(ensemble=True, top_k=1)
    assert str(error) == "an ensemble needs at least 2 configs: retrain with `top_k` of 2 or more"
    assert (error.key, error.in_file) == ("ensemble", "an ensemble needs `top_k` of 2 or more")


@pytest.mark.parametrize(
    ("given", "kept"),
    [("auto", "auto"), (None, None), ("none", None), ("None", None), (90, 90.0), ("90", 90.0), ("20m", 1200.0),
     ("1.5h", 5400.0), (2.5, 2.5)],
)  # fmt: skip
def test_time_limit_is_auto_none_or_a_duration_kept_in_seconds(given, kept):
    assert RetrainPolicy(time_limit=given).time_limit == kept


@pytest.mark.parametrize("time_limit", [0, -5, "soon", True, [1]])
def test_time_limit_refuses_what_is_not_a_positive_duration(time_limit):
    error = refusal(time_limit=time_limit)
    assert str(error) == f"`time_limit` takes a duration (90, 20m, 1h), 'auto' or 'none', not {time_limit!r}"
    assert (error.key, error.in_file) == (
        "time_limit",
        f"give a duration (90, 20m, 1h), auto or none, not {time_limit!r}",
    )
