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


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("best", "best"),
        ("Smallest-within  0.005", "smallest-within 0.005"),
        ("fastest-within 1%", "fastest-within 1%"),
        ("fastest-within 0", "fastest-within 0"),
        ("smallest-within .5e-2", "smallest-within 0.005"),
    ],
)
def test_a_pick_is_kept_in_its_canonical_words(given, kept):
    policy = RetrainPolicy(pick=given)
    assert policy.pick == kept
    assert str(policy.parsed_pick) == kept and RetrainPolicy(pick=kept) == policy


def test_a_tolerance_is_a_score_difference_or_a_share_of_the_best():
    absolute = RetrainPolicy(pick="smallest-within 0.01").parsed_pick
    assert absolute.within(0.94, 0.95, "maximize") and not absolute.within(0.9399, 0.95, "maximize")
    assert absolute.within(2.01, 2.0, "minimize") and not absolute.within(2.02, 2.0, "minimize")
    relative = RetrainPolicy(pick="fastest-within 10%").parsed_pick
    assert (relative.tolerance, relative.relative, relative.objective) == (0.1, True, "latency")
    assert relative.threshold(2.0, "minimize") == pytest.approx(2.2)
    assert relative.threshold(0.9, "maximize") == pytest.approx(0.81)


@pytest.mark.parametrize(
    ("pick", "says"),
    [
        ("smalest", "give best, smallest-within TOL or fastest-within TOL"),
        ("best 0.1", "give best, smallest-within TOL or fastest-within TOL"),
        ("smallest-within", "smallest-within needs a tolerance: smallest-within 0.005"),
        (
            "fastest-within -0.01",
            "fastest-within takes a tolerance of 0 or more, such as 0.005 or 1%, not '-0.01'",
        ),
        ("fastest-within 1%%", "not '1%%'"),
        ("smallest-within nan", "not 'nan'"),
        (0.01, "not 0.01"),
    ],
)
def test_a_malformed_pick_is_one_line(pick, says):
    error = refusal(pick=pick)
    assert str(error).startswith("`pick`: ") and says in str(error)
    assert error.key == "pick" and says in error.in_file and not error.in_file.startswith("`")


def test_a_pick_deploys_one_model_unless_an_ensemble_is_asked_whole():
    error = refusal(pick="smallest-within 0.01", bag=True)
    assert str(error).startswith("`pick='smallest-within 0.01'` deploys one small or fast model, and `bag`")
    error = refusal(pick="fastest-within 1%", ensemble=True)
    assert "say how many with `top_k`" in str(error) and "top_k" in error.in_file
    RetrainPolicy(pick="fastest-within 1%", ensemble=True, top_k=2)
    RetrainPolicy(pick="smallest-within 0.01", final_fit=True, bag=False, ensemble=False)
    RetrainPolicy(pick="best", bag=True)
