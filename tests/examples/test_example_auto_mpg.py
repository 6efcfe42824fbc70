"""examples/auto_mpg: the diagnosis reads the three fixed models' curves as the workshop does."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def mpg(example):
    return example("auto_mpg")


def test_three_fixed_models_are_diagnosed_under_balanced_over(mpg, common, tmp_path):
    dataset = mpg.load()
    fixed = mpg.fixed_models(dataset, tmp_path)
    labels = {row.config["units"]: row.diagnosis for row in common.diagnoses(fixed).itertuples()}
    assert labels == {1: "under-fit", 32: "balanced", 128: "over-fit"} == mpg.WIDTHS
    board = fixed.leaderboard_
    assert {"baseline:mean", "baseline:linear"} <= set(board["trial"])
    assert (board.loc[board["state"] == "complete", "epochs_run"] == 60).all()  # no early stopping
    assert (tmp_path / "fixed_models" / "report.html").is_file()


def test_penalty_kinds_are_named(mpg):
    assert mpg.penalty_kind({"l1": 0.0, "l2": 0.0}) == "none"
    assert mpg.penalty_kind({"l1": 1e-4, "l2": 0.0}) == "L1"
    assert mpg.penalty_kind({"l1": 0.0, "l2": 1e-3}) == "L2"
    assert mpg.penalty_kind({"l1": 1e-4, "l2": 1e-3}) == "L1+L2"


@pytest.mark.slow
def test_the_retrained_best_beats_the_mean_and_linear_baselines_on_test(mpg, tmp_path):
    search = mpg.regularisation_search(mpg.load(), tmp_path, n_trials=40, workers=1)
    search.retrain()
    test = search.retrain_report_.test_baselines
    assert search.test_metrics_["rmse"] < test["linear"] < test["mean"]
