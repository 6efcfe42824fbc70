"""What retrain deploys when asked nothing: the ensemble of the top configs when the search finished two or
more, the top-1 config otherwise; and the explicit choices (their contradictions are the policy's to
refuse: tests/unit/store/test_retrain_policy.py)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from automl.retrain import BAGGED_ENSEMBLE_SIZE, ENSEMBLE_SIZE, deploy_plan
from automl.store import RetrainPolicy, StudyInfo, TrialRecord, TrialState

INFO = StudyInfo(
    dataset="wine", dataset_fingerprint="f", space="compact", space_hash="h", task="multiclass",
    metric="accuracy", direction="maximize", backend="optuna", algorithm="tpe",
)  # fmt: skip


def trials(*seconds: float | None, state: TrialState = TrialState.COMPLETE) -> list[TrialRecord]:
    """Trials scored 0.9, 0.8, ... (the first is the best), each trained for the given seconds."""
    return [
        TrialRecord(number=i, state=state, score=0.9 - 0.1 * i, params={}, fit_seconds=s)
        for i, s in enumerate(seconds)
    ]


def test_auto_ensembles_the_top_five_of_any_search_that_finished_two():
    assert deploy_plan(trials(1, 1, 1, 5, 5, 7), INFO, RetrainPolicy()) == (ENSEMBLE_SIZE, True) == (5, True)
    assert deploy_plan(trials(1, 1), INFO, RetrainPolicy()) == (5, True)  # the two it has
    # Pruned trials are not members.
    assert deploy_plan(trials(3) + trials(30, state=TrialState.PRUNED), INFO, RetrainPolicy()) == (1, False)


def test_bagged_members_are_three():
    """After a cross-validated search each member is K fold models: the top 3, unless the bag is refused."""
    cross_validated = replace(INFO, cv=5)
    assert deploy_plan(trials(1, 1, 1, 1, 1), cross_validated, RetrainPolicy()) == (
        BAGGED_ENSEMBLE_SIZE,
        True,
    )
    assert BAGGED_ENSEMBLE_SIZE == 3
    assert deploy_plan(trials(1, 1, 1), cross_validated, RetrainPolicy(ensemble=True)) == (3, True)
    assert deploy_plan(trials(1, 1, 1), cross_validated, RetrainPolicy(bag=False)) == (5, True)
    assert deploy_plan(trials(1, 1, 1), INFO, RetrainPolicy(bag=True)) == (3, True)  # bagged on request


def test_auto_needs_two_finished_configs():
    assert deploy_plan(trials(1), INFO, RetrainPolicy()) == (1, False)
    assert deploy_plan(trials(1) + trials(1, state=TrialState.FAIL), INFO, RetrainPolicy()) == (1, False)
    assert deploy_plan(trials(1), INFO, RetrainPolicy(top_k=3)) == (3, False)


def test_what_the_caller_says_wins():
    run = trials(1, 1, 1, 9, 9)
    assert deploy_plan(run, INFO, RetrainPolicy(top_k=1)) == (1, False)
    assert deploy_plan(run, INFO, RetrainPolicy(top_k=2)) == (2, True)  # the members are retrained anyway
    assert deploy_plan(run, INFO, RetrainPolicy(ensemble=False)) == (1, False)
    assert deploy_plan(run, INFO, RetrainPolicy(ensemble=False, top_k=3)) == (3, False)
    assert deploy_plan(run, INFO, RetrainPolicy(ensemble=True)) == (5, True)
    assert deploy_plan(run, INFO, RetrainPolicy(ensemble=True, top_k=5)) == (5, True)
    assert deploy_plan(run, INFO, RetrainPolicy(final_fit=True)) == (1, False)


def test_the_retrain_functions_take_a_policy_or_its_values_not_both():
    from automl.exceptions import UserError
    from automl.retrain import policy_of

    assert policy_of(None, top_k=2, seeds=3) == RetrainPolicy(top_k=2, seeds=3)
    given = RetrainPolicy(seeds=2)
    assert policy_of(given, top_k=None, seeds=1, epochs="best") is given
    with pytest.raises(UserError, match=r"^give `policy` or `seeds`, `bag`, not both"):
        policy_of(given, seeds=4, bag=True, top_k=None)
