"""The retrain of a search stopped by its time budget costs about its best trial's training: the winner
replays the epochs it trained (up to its best), and each model after the top-1 config's first is trained
only if it fits in the retrain's time limit (``"auto"``: the search's own budget)."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from automl.retrain import retrain_study, search_budget
from automl.retrain._time import RetrainClock, time_limit_of, trial_epoch_seconds
from automl.store import BudgetEntry, RetrainPolicy, StudyInfo, TrialRecord, TrialState

INFO = StudyInfo(
    dataset="breast_cancer", dataset_fingerprint="", space="small", space_hash="h", task="binary",
    metric="accuracy", direction="maximize", backend="optuna", algorithm="tpe",
)  # fmt: skip
CONFIG = {"family": "mlp", "depth": 1, "units": 8, "batch_size": 64, "epochs": 6, "patience": 2}
START = datetime(2026, 12, 5, 18, 0, 0)


def stopped_by_budget(number: int, *, best_epoch: int, epochs_run: int, fit_seconds: float) -> TrialRecord:
    """A complete trial the search's time budget ended after ``epochs_run`` epochs."""
    return TrialRecord(
        number=number, state=TrialState.COMPLETE, score=0.95 - 0.01 * number, params={}, config=dict(CONFIG),
        best_epoch=best_epoch, epochs_run=epochs_run, stopped_by="budget", fit_seconds=fit_seconds,
        started=START, finished=START + timedelta(seconds=600),
    )  # fmt: skip


# ---------------------------------------------------------------- the rules, without training


def test_auto_is_the_time_budget_the_search_was_given():
    assert search_budget(BudgetEntry(timeout=600.0)) == 600.0
    assert search_budget(BudgetEntry(timeout=600.0, per="total"), studies=3) == 200.0
    assert search_budget(BudgetEntry(trials=20)) is None  # bounded by trials alone: no limit
    assert time_limit_of(RetrainPolicy(), 600.0) == 600.0
    assert time_limit_of(RetrainPolicy(), None) is None
    assert time_limit_of(RetrainPolicy(time_limit="5m"), 600.0) == 300.0
    assert time_limit_of(RetrainPolicy(time_limit=None), 600.0) is None


def test_a_trials_seconds_per_epoch_count_only_the_epochs_it_trained_itself():
    record = stopped_by_budget(0, best_epoch=10, epochs_run=10, fit_seconds=500.0)
    assert trial_epoch_seconds(record) == 50.0
    # Resumed at epoch 6 from a checkpoint: its fit_seconds are those of epochs 7-10.
    assert trial_epoch_seconds(replace(record, resumed_at=6, fit_seconds=200.0)) == 50.0
    assert trial_epoch_seconds(replace(record, fit_seconds=None)) is None


def test_the_clock_scales_estimates_by_what_it_measured():
    record = stopped_by_budget(0, best_epoch=10, epochs_run=10, fit_seconds=500.0)
    clock = RetrainClock(1000.0, rows=1.25)
    assert clock.estimate(record, 10) == pytest.approx(625.0)  # before any model: by the rows added
    clock.measured(record, seconds=300.0, epochs=10)  # the retrain ran 30 s per epoch: 0.6 x the trial's
    assert clock.estimate(record, 5) == pytest.approx(150.0)
    assert clock.fits(150.0) and not clock.fits(5000.0) and clock.fits(None)
    assert RetrainClock(None).fits(1e12) and RetrainClock(None).left() is None


# ---------------------------------------------------------------- real retrains of tiny data


def test_a_budget_stopped_winner_replays_its_best_epoch_not_the_spaces_epoch_budget(cancer, tmp_path):
    records = [
        stopped_by_budget(0, best_epoch=2, epochs_run=3, fit_seconds=0.3),
        stopped_by_budget(1, best_epoch=1, epochs_run=2, fit_seconds=0.2),
    ]
    report, _ = retrain_study(cancer, records, INFO, tmp_path / "model", time_limit=None)
    assert [c.trial for c in report.configs] == [0, 1]
    assert [[run.epochs for run in c.runs] for c in report.configs] == [[2], [1]]  # not up to 6
    assert not any(run.early_stopping or run.cut_short for c in report.configs for run in c.runs)
    assert report.configs[0].epochs_policy == "best epoch 2 (the search's time budget stopped it)"
    assert report.ensemble is not None and report.ensemble["members"] == [0, 1]  # both fit: no limit
    assert report.skipped == [] and report.time_limit is None
    metrics = json.loads((tmp_path / "model" / "metrics.json").read_text())
    assert metrics["search_seconds"] == 600.0  # first trial's start to last trial's end
    assert 0 < metrics["retrain_seconds"] == pytest.approx(report.seconds, abs=0.01)


@pytest.mark.parametrize(
    "limit", [{"time_limit": 60}, {"time_limit": "auto", "search_budget": 60.0}], ids=["given", "auto"]
)
def test_a_member_that_does_not_fit_in_the_time_limit_is_left_out(cancer, tmp_path, limit):
    records = [
        stopped_by_budget(0, best_epoch=2, epochs_run=2, fit_seconds=0.2),
        # Its trial took 1,000 s an epoch: it cannot fit in a minute.
        stopped_by_budget(1, best_epoch=3, epochs_run=3, fit_seconds=3000.0),
    ]
    report, predictor = retrain_study(cancer, records, INFO, tmp_path / "model", **limit)
    assert [c.trial for c in report.configs] == [0] and report.ensemble is None  # the top-1 model alone
    assert report.deployed == "top-1" and report.time_limit == 60.0
    (skipped,) = report.skipped
    assert (skipped["trial"], skipped["seed"]) == (1, 0) and skipped["estimated_seconds"] > 60
    assert predictor.model.name.startswith("automl_")  # not an ensemble
    metrics = json.loads((tmp_path / "model" / "metrics.json").read_text())
    assert metrics["skipped"][0]["trial"] == 1 and metrics["time_limit"] == 60.0


def test_no_limit_after_a_search_bounded_by_trials(cancer, tmp_path):
    records = [
        stopped_by_budget(0, best_epoch=1, epochs_run=1, fit_seconds=0.1),
        stopped_by_budget(1, best_epoch=1, epochs_run=1, fit_seconds=3000.0),
    ]
    report, _ = retrain_study(cancer, records, INFO, tmp_path / "model", search_budget=None)
    assert report.time_limit is None and report.skipped == [] and len(report.configs) == 2


def test_the_top_model_past_the_limit_keeps_the_epochs_it_trained(cancer, tmp_path):
    records = [stopped_by_budget(0, best_epoch=5, epochs_run=5, fit_seconds=0.5)]
    report, _ = retrain_study(cancer, records, INFO, tmp_path / "model", time_limit=0.001, seeds=2)
    (run,) = report.configs[0].runs  # the second seed does not fit either
    assert run.cut_short and run.epochs == 1  # the first epoch always ends; then the limit stops the fit
    assert [(s["trial"], s["seed"]) for s in report.skipped] == [(0, 1)]
