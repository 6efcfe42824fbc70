"""``ensemble_from=N``: the ensemble's members are chosen among the top N configs by what each does to the
ensemble's validation loss, from a second fit of each; a config that repeats the top one's mistakes loses
its seat to one that errs elsewhere. Contradictions and a cross-validated study are refused in one line
before anything trains."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest
from pareto_runs import pareto_run
from second_fit_trials import GOOD, INFO, LUCKY, trial
from sklearn.metrics import log_loss

from automl.exceptions import UserError
from automl.retrain import check_selection, retrain_study
from automl.retrain._select import (
    Selection,
    describe_selection,
    greedy_members,
    select_members,
    validation_loss,
)
from automl.store import RetrainPolicy, RetrainPolicyError

# ---------------------------------------------------------------- refusals, before anything trains


@pytest.mark.parametrize(
    ("values", "says"),
    [
        ({"ensemble_from": 1}, "`ensemble_from` takes 0 (off) or the number of top configs to choose members "
         "from, at least 2, not 1"),
        ({"ensemble_from": "all"}, "not 'all'"),
        ({"ensemble_from": 8, "ensemble": False}, "`ensemble_from` chooses an ensemble's members, but "
         "`ensemble=False`: it deploys no ensemble"),
        ({"ensemble_from": 8, "top_k": 1}, "but `top_k=1`: an ensemble needs 2 or more"),
        ({"ensemble_from": 8, "final_fit": True}, "but `final_fit=True`: it deploys the top-1 config alone"),
        ({"ensemble_from": 8, "rescore": 8}, "but `rescore=8`: both rank the top configs again: choose one"),
        ({"ensemble_from": 8, "pick": "smallest-within 0.01"}, "but `pick='smallest-within 0.01'`: it ranks "
         "by size or latency: pick 'best'"),
    ],
)  # fmt: skip
def test_an_ensemble_from_out_of_range_or_beside_another_choice_is_refused(values, says):
    with pytest.raises(RetrainPolicyError) as error:
        RetrainPolicy(**values)
    assert says in str(error.value) and "\n" not in str(error.value)


def test_a_cross_validated_study_is_refused_it_deploys_bags():
    check_selection(INFO, 5)
    check_selection(replace(INFO, cv=5), 0)
    with pytest.raises(UserError, match=r"5-fold cross-validation, and its retrain deploys bags"):
        check_selection(replace(INFO, cv=5), 3)
    with pytest.raises(UserError, match=r"5-fold cross-validation"):  # before any fit: no dataset needed
        select_members([trial(0, 0.9, GOOD)], None, replace(INFO, cv=5), 3, 2, time_limit=None)


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--ensemble-from", "1"], "error: --ensemble-from takes 0 (off) or the number of top configs"),
        (["--ensemble-from", "6", "--no-ensemble"], "error: --ensemble-from chooses an ensemble's members, but "
         "--no-ensemble: it deploys no ensemble"),
    ],
)  # fmt: skip
def test_a_bad_ensemble_from_on_the_command_line_is_one_line_and_trains_nothing(cli, tmp_path, args, says):
    run = pareto_run(tmp_path / "run")
    code, _, err = cli(["retrain", str(run), *args])
    assert code == 2 and says in " ".join(err.split()) and len(err.strip().splitlines()) == 1
    assert not (run / "models").exists()


# ---------------------------------------------------------------- the choice, on outputs given


def test_the_validation_loss_is_the_log_loss_or_the_squared_error():
    truth = np.array([0, 1, 2, 1])
    outputs = np.array([[0.8, 0.1, 0.1], [0.2, 0.7, 0.1], [0.3, 0.3, 0.4], [0.05, 0.9, 0.05]])
    assert validation_loss(outputs, truth, classification=True) == pytest.approx(
        log_loss(truth, np.clip(outputs, 1e-7, 1.0), labels=[0, 1, 2]), rel=1e-6
    )
    assert validation_loss(np.array([1.0, 2.0]), np.array([0.0, 4.0]), classification=False) == 2.5


def _outputs(wrong: np.ndarray, *, right: float, mistaken: float) -> np.ndarray:
    """Binary probabilities when the truth is class 1 everywhere: ``right`` on it, ``mistaken`` where
    ``wrong`` (below one half: a mistake)."""
    p_true = np.where(wrong, mistaken, right)
    return np.stack([1 - p_true, p_true], axis=1)


def test_a_config_that_errs_elsewhere_is_chosen_over_one_that_repeats_the_top_ones_mistakes():
    rows = np.arange(40)
    truth = np.ones(len(rows), dtype=int)
    outputs = {
        0: _outputs(rows % 4 == 0, right=0.95, mistaken=0.4),  # the best alone
        1: _outputs(rows % 4 == 0, right=0.93, mistaken=0.4),  # second alone, with the same mistakes
        2: _outputs(rows % 4 == 1, right=0.90, mistaken=0.4),  # third alone, wrong elsewhere
    }
    alone = {k: validation_loss(v, truth, classification=True) for k, v in outputs.items()}
    assert alone[0] < alone[1] < alone[2]
    members, losses, stopped = greedy_members(outputs, truth, 2, classification=True)
    assert members == [0, 2] and stopped == "size"
    assert losses == [pytest.approx(alone[0]), pytest.approx(losses[1])] and losses[1] < alone[0]
    # by search score the twin would have joined, and the average would have been worse than the top alone
    twins = validation_loss((outputs[0] + outputs[1]) / 2, truth, classification=True)
    assert twins > alone[0] > losses[1]


def test_the_ensemble_keeps_its_size_and_outputs_with_no_finite_loss_never_join():
    truth = np.array([0.0, 1.0, 2.0, 3.0])
    outputs = {
        4: truth + 0.1,
        9: np.array([np.nan, 1.0, 2.0, 3.0]),  # a diverged fit
        2: truth + 3.0,  # far off: averaging it in raises the loss, yet it is the only one left
        6: truth - 0.2,
    }
    members, losses, stopped = greedy_members(outputs, truth, 2, classification=False)
    assert members == [4, 6] and stopped == "size" and losses == [pytest.approx(0.01), pytest.approx(0.0025)]
    members, losses, stopped = greedy_members(outputs, truth, 5, classification=False)
    assert members == [4, 6, 2] and stopped == "library" and losses[2] > losses[0]
    assert greedy_members({}, truth, 3, classification=False) == ([], [], "library")


def test_configs_past_the_time_limit_are_left_out_and_the_search_order_stands(cancer):
    slow = [trial(n, 0.99 - 0.01 * n, GOOD, fit_seconds=500.0) for n in range(3)]
    order, selection = select_members(slow, cancer, INFO, 2, 2, time_limit=10.0)
    assert [r.number for r in order] == [0, 1, 2] and selection.members == []
    assert [(e["trial"], e["failure"]) for e in selection.library] == [(0, "time limit"), (1, "time limit")]
    line = describe_selection(selection, [0, 1])
    assert "trained 0 of the top 2 configs" in line and "the time limit left out trials 0, 1" in line
    assert "no config to choose from" in line


# ---------------------------------------------------------------- a real retrain of tiny data


def test_a_config_that_cannot_learn_is_kept_out_of_the_ensemble_whatever_its_search_score(cancer, tmp_path):
    # Trial 0 drew the best validation score by luck; ranked by score it would be the ensemble's first member.
    records = [trial(0, 0.99, LUCKY), trial(1, 0.96, GOOD), trial(2, 0.95, {**GOOD, "units": 8})]
    report, predictor = retrain_study(
        cancer, records, INFO, tmp_path / "model", ensemble_from=3, top_k=2, time_limit=None
    )
    selection = report.selection
    assert selection is not None and [e["trial"] for e in selection["library"]] == [0, 1, 2]
    assert all(e["loss"] is not None and e["seconds"] > 0 for e in selection["library"])
    losses = {e["trial"]: e["loss"] for e in selection["library"]}
    assert losses[0] > 2 * max(losses[1], losses[2])
    assert sorted(selection["members"]) == [1, 2] and selection["stopped"] == "size"
    assert [c.trial for c in report.configs] == selection["members"] == report.ensemble["members"]
    assert report.deployed_test_score > 0.85
    metrics = json.loads((tmp_path / "model" / "metrics.json").read_text())
    assert metrics["selection"] == selection
    assert np.mean(predictor.predict(cancer.x_test) == cancer.y_test) == pytest.approx(
        report.deployed_test_score
    )


def test_without_ensemble_from_nothing_more_trains_and_no_selection_is_recorded(cancer, tmp_path):
    records = [trial(0, 0.99, GOOD), trial(1, 0.96, GOOD)]
    report, _ = retrain_study(cancer, records, INFO, tmp_path / "model", top_k=2, time_limit=None)
    assert report.selection is None and report.ensemble["members"] == [0, 1]
    assert json.loads((tmp_path / "model" / "metrics.json").read_text())["selection"] is None


# ---------------------------------------------------------------- the report


def test_the_report_says_which_members_were_chosen_and_why_it_stopped(tmp_path):
    from automl.report import render_html, report_data

    run = pareto_run(tmp_path / "run")
    folder = run / "models" / "iris"
    folder.mkdir(parents=True)
    selection = Selection(
        library=[
            {"trial": 3, "search_score": 0.97, "loss": 0.21, "seconds": 1.0, "failure": None},
            {"trial": 5, "search_score": 0.96, "loss": 0.25, "seconds": 1.0, "failure": None},
            {"trial": 8, "search_score": 0.95, "loss": None, "seconds": 0.0, "failure": "time limit"},
        ],
        members=[3, 5],
        losses=[0.21, 0.18],
        stopped="size",
    )
    metrics = {
        "metric": "accuracy",
        "direction": "maximize",
        "saved": {"trial": 3},
        "selection": selection.to_dict(),
    }
    (folder / "metrics.json").write_text(json.dumps(metrics))
    data = report_data(run)
    line = data["studies"][0]["retrained"]["selection"]
    assert line == ("trial 3 0.21, trial 5 0.25, trial 8 time limit; chose trials 3 (0.21), 5 (0.18)")
    assert "ensemble selection" in render_html(data) and "chose trials 3 (0.21), 5 (0.18)" in render_html(
        data
    )
