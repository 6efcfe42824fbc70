"""``rescore=N``: the top N configs are trained again with a second seed and ranked by the mean of both
validation scores before the retrain takes its top K; a lucky config's search score no longer wins alone.
Contradictions and a cross-validated study are refused in one line before anything trains."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from pareto_runs import pareto_run
from second_fit_trials import GOOD, INFO, LUCKY, trial

from automl.exceptions import UserError
from automl.retrain import check_rescore, retrain_study
from automl.retrain._rescore import Rescored, describe_rescore, rescore_configs
from automl.store import RetrainPolicy, RetrainPolicyError

# ---------------------------------------------------------------- refusals, before anything trains


@pytest.mark.parametrize(
    ("values", "says"),
    [
        ({"rescore": 1}, "`rescore` takes 0 (off) or the number of top configs to re-score, at least 2, not 1"),
        ({"rescore": -3}, "at least 2, not -3"),
        ({"rescore": "many"}, "not 'many'"),
        ({"rescore": 5, "pick": "smallest-within 0.01"}, "`rescore` ranks the top configs by validation score "
         "again, and `pick='smallest-within 0.01'` ranks them by size: drop `rescore`, or pick 'best'"),
    ],
)  # fmt: skip
def test_a_rescore_out_of_range_or_beside_another_pick_is_refused(values, says):
    with pytest.raises(RetrainPolicyError) as error:
        RetrainPolicy(**values)
    assert says in str(error.value) and "\n" not in str(error.value)


def test_a_cross_validated_study_is_refused_its_scores_average_k_models_already():
    check_rescore(INFO, 5)  # a validation split: fine
    check_rescore(replace(INFO, cv=5), 0)  # not asked: fine
    with pytest.raises(UserError, match=r"5-fold cross-validation: its scores average 5 models already"):
        check_rescore(replace(INFO, cv=5), 3)


def test_configs_the_time_limit_leaves_out_keep_their_order_after_those_rescored(cancer):
    slow = [trial(n, 0.99 - 0.01 * n, GOOD, fit_seconds=500.0) for n in range(3)]
    order, rescored = rescore_configs(slow, cancer, INFO, 2, time_limit=10.0)
    assert [r.number for r in order] == [0, 1, 2]  # nothing trained: the search's order
    assert [(r.trial, r.second_score, r.failure) for r in rescored] == [
        (0, None, "time limit"),
        (1, None, "time limit"),
    ]
    assert "re-scored 0 of the top 2 configs" in describe_rescore(rescored, order[:1])
    assert "the time limit left out trials 0, 1" in describe_rescore(rescored, order[:1])


def test_a_config_the_time_limit_leaves_out_leaves_out_every_one_after_it(cancer):
    # Trial 1's second fit would not fit; trial 2 would, but re-scoring it instead would lift a cheap
    # config over a slow one ranked above it: both keep their search scores and order.
    records = [trial(0, 0.99, GOOD), trial(1, 0.98, GOOD, fit_seconds=500.0), trial(2, 0.97, GOOD)]
    order, rescored = rescore_configs(records, cancer, INFO, 3, time_limit=20.0)
    assert [(r.trial, r.failure) for r in rescored] == [(0, None), (1, "time limit"), (2, "time limit")]
    assert rescored[0].second_score is not None and [r.number for r in order] == [0, 1, 2]


def test_the_order_puts_the_rescored_by_their_mean_then_those_left_out_then_those_that_failed():
    records = [trial(n, 0.9, GOOD) for n in range(4)]
    rescored = [
        Rescored(0, 0.9, None, 8, failure="not_a_number"),
        Rescored(1, 0.9, None, 9, failure="time limit"),
        Rescored(2, 0.9, 0.7, 10, 0.1),
        Rescored(3, 0.9, 0.8, 11, 0.1),
    ]
    assert [r.mean for r in rescored] == [None, None, pytest.approx(0.8), pytest.approx(0.85)]
    line = describe_rescore(rescored, [records[3], records[2]])
    assert line == (
        "re-scored 2 of the top 4 configs with a second seed (0 s); the time limit left out trials 1; the second "
        "fit failed for trials 0, ranked last; the top 2 are now trials 3, 2 (were 0, 1)"
    )


# ---------------------------------------------------------------- a real retrain of tiny data


def test_a_lucky_config_is_ranked_down_by_its_second_seed_and_the_deployed_model_is_a_sound_one(
    cancer, tmp_path
):
    # Trial 0 drew the best validation score by luck: a config that cannot learn.
    records = [trial(0, 0.99, LUCKY), trial(1, 0.96, GOOD), trial(2, 0.95, {**GOOD, "units": 8})]
    report, _ = retrain_study(
        cancer, records, INFO, tmp_path / "model", rescore=3, top_k=2, ensemble=True, time_limit=None
    )
    assert sorted(c.trial for c in report.configs) == [1, 2]
    assert report.ensemble is not None and 0 not in report.ensemble["members"]
    assert [r["trial"] for r in report.rescored] == [0, 1, 2]  # in the search's order
    by_trial = {r["trial"]: r for r in report.rescored}
    assert [by_trial[n]["seed"] for n in (0, 1, 2)] == [8, 9, 10]  # each trial's seed plus one
    assert by_trial[0]["second_score"] < 0.9 < min(by_trial[1]["second_score"], by_trial[2]["second_score"])
    assert by_trial[1]["mean"] == pytest.approx((0.96 + by_trial[1]["second_score"]) / 2)
    # the validation scores shown stay the search's, and metrics.json keeps both draws
    scores = {r.number: r.score for r in records}
    assert all(c.validation_score == scores[c.trial] for c in report.configs)
    metrics = json.loads((tmp_path / "model" / "metrics.json").read_text())
    assert metrics["rescored"] == report.rescored and metrics["saved"]["trial"] in (1, 2)
    assert report.deployed_test_score > 0.85


def test_without_rescore_the_search_order_stands_and_nothing_more_trains(cancer, tmp_path):
    records = [trial(0, 0.99, LUCKY), trial(1, 0.96, GOOD)]
    report, _ = retrain_study(cancer, records, INFO, tmp_path / "model", ensemble=False, time_limit=None)
    assert [c.trial for c in report.configs] == [0] and report.rescored is None
    assert json.loads((tmp_path / "model" / "metrics.json").read_text())["rescored"] is None


# ---------------------------------------------------------------- the command line


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--rescore", "1"], "error: --rescore takes 0 (off) or the number of top configs to re-score, at least 2"),
        (["--rescore", "4", "--pick", "smallest-within", "0.01"], "error: --rescore ranks the top configs by "
         "validation score again, and --pick smallest-within 0.01 ranks them by size"),
    ],
)  # fmt: skip
def test_a_bad_rescore_on_the_command_line_is_one_line_and_trains_nothing(cli, tmp_path, args, says):
    run = pareto_run(tmp_path / "run")
    code, _, err = cli(["retrain", str(run), *args])
    assert code == 2 and says in " ".join(err.split()) and len(err.strip().splitlines()) == 1
    assert not (run / "models").exists()


# ---------------------------------------------------------------- the report


def test_the_reports_retrained_model_shows_both_draws_of_each_rescored_config(tmp_path):
    from automl.report import render_html, report_data

    run = pareto_run(tmp_path / "run")
    folder = run / "models" / "iris"
    folder.mkdir(parents=True)
    rescored = [
        Rescored(0, 0.99, 0.81, 1, 0.4).to_dict(),
        Rescored(1, 0.96, 0.97, 2, 0.4).to_dict(),
        Rescored(2, 0.95, None, 3, failure="time limit").to_dict(),
    ]
    metrics = {"metric": "accuracy", "direction": "maximize", "saved": {"trial": 1}, "rescored": rescored}
    (folder / "metrics.json").write_text(json.dumps(metrics))
    data = report_data(run)
    line = data["studies"][0]["retrained"]["rescored"]
    assert (
        line == "trial 0 0.99 → 0.81 (mean 0.9), trial 1 0.96 → 0.97 (mean 0.965), trial 2 0.95 → time limit"
    )
    assert "re-scored with a second seed" in render_html(data) and "trial 1 0.96 → 0.97" in render_html(data)
