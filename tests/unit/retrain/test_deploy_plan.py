"""What retrain deploys when asked nothing: the ensemble of the top configs when the search finished two or
more, the top-1 config otherwise; and the explicit choices, each refused in one line when contradictory."""

from __future__ import annotations

from dataclasses import replace

import pytest

from automl.exceptions import UserError
from automl.retrain import ENSEMBLE_SIZE, deploy_plan
from automl.store import StudyInfo, TrialRecord, TrialState

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


def test_auto_ensembles_the_top_three_of_any_search_that_finished_two():
    assert deploy_plan(trials(1, 1, 1, 5, 5, 7), INFO) == (ENSEMBLE_SIZE, True) == (3, True)
    assert deploy_plan(trials(1, 1), INFO) == (3, True)  # the two it has
    assert deploy_plan(trials(1, 1, 1), replace(INFO, cv=5)) == (3, True)
    # Pruned trials are not members.
    assert deploy_plan(trials(3) + trials(30, state=TrialState.PRUNED), INFO) == (1, False)


def test_auto_needs_two_finished_configs():
    assert deploy_plan(trials(1), INFO) == (1, False)
    assert deploy_plan(trials(1) + trials(1, state=TrialState.FAIL), INFO) == (1, False)
    assert deploy_plan(trials(1), INFO, top_k=3) == (3, False)


def test_what_the_caller_says_wins():
    run = trials(1, 1, 1, 9, 9)
    assert deploy_plan(run, INFO, top_k=1) == (1, False)
    assert deploy_plan(run, INFO, top_k=2) == (2, True)  # the members are retrained anyway
    assert deploy_plan(run, INFO, ensemble=False) == (1, False)
    assert deploy_plan(run, INFO, ensemble=False, top_k=3) == (3, False)
    assert deploy_plan(run, INFO, ensemble=True) == (3, True)
    assert deploy_plan(run, INFO, ensemble=True, top_k=5) == (5, True)
    assert deploy_plan(run, INFO, final_fit=True) == (1, False)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"ensemble": True, "top_k": 1}, "an ensemble needs at least 2 configs"),
        ({"ensemble": True, "final_fit": True}, "`final_fit` and `ensemble` deploy different models"),
        ({"ensemble": "yes"}, "`ensemble` takes true, false or 'auto', not 'yes'"),
        ({"top_k": 0}, "`top_k` must be at least 1, but got 0"),
    ],
)
def test_contradictions_are_one_line(kwargs, message):
    with pytest.raises(UserError) as info:
        deploy_plan(trials(1, 1, 1), INFO, **kwargs)
    assert message in str(info.value) and "\n" not in str(info.value)
