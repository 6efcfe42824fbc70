"""Choosing from the trade-off front: the smallest or fastest config within a tolerance of the best, what the
pick records, and the picks a study cannot answer (one line each, before any work)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from automl.exceptions import UserError
from automl.retrain import check_pick, deploy_plan, pick_configs
from automl.retrain._bag import bag_folds
from automl.store import QuietFootprint, RetrainPolicy, StudyInfo, TrialRecord, TrialState

INFO = StudyInfo(
    dataset="digits", dataset_fingerprint="f", space="tiny", space_hash="h", task="multiclass",
    metric="accuracy", direction="maximize", backend="optuna", algorithm="tpe", objectives=["size", "latency"],
)  # fmt: skip


def trial(number, score, size, latency=None, **fields) -> TrialRecord:
    return TrialRecord(
        number=number, state=fields.pop("state", TrialState.COMPLETE), score=score, params={}, config={"units_0": number},
        n_params=fields.pop("n_params", None if size is None else size // 4), size_bytes=size,
        latency_ms=latency, latency_ms_256=None if latency is None else latency / 50, **fields,
    )  # fmt: skip


#: the best is large; one a little worse is ten times smaller; the smallest is far worse
STUDY = [
    trial(0, 0.950, 400_000, 2.0),
    trial(1, 0.946, 40_000, 0.6),
    trial(2, 0.930, 8_000, 0.3),
    trial(3, 0.948, 90_000, 0.9),
    trial(4, 0.960, None, None, state=TrialState.PRUNED),
]


def test_smallest_within_picks_the_smallest_config_that_gives_up_at_most_the_tolerance():
    picked = pick_configs(STUDY, INFO, "smallest-within 0.005")
    assert picked.picked.number == 1 and picked.best.number == 0
    assert [r.number for r in picked.order] == [1, 3, 0]  # within 0.005 of 0.950, smallest first
    assert picked.measure == "size_bytes" and picked.threshold == pytest.approx(0.945) and not picked.notes
    assert pick_configs(STUDY, INFO, "smallest-within 0.02").picked.number == 2
    assert pick_configs(STUDY, INFO, "smallest-within 0.002").picked.number == 3  # 0.948: just in
    assert pick_configs(STUDY, INFO, "smallest-within 0.0019").picked.number == 0
    assert pick_configs(STUDY, INFO, "smallest-within 0").picked.number == 0
    # a percentage of the best: 3 % of 0.95 is 0.0285, 1.5 % is 0.01425
    assert pick_configs(STUDY, INFO, "smallest-within 3%").picked.number == 2
    assert pick_configs(STUDY, INFO, "smallest-within 1.5%").picked.number == 1


def test_a_lower_is_better_metric_is_within_above_the_best():
    info = replace(INFO, metric="rmse", direction="minimize")
    records = [trial(0, 2.00, 9_000), trial(1, 2.04, 1_000), trial(2, 2.20, 500)]
    assert pick_configs(records, info, "smallest-within 0.05").picked.number == 1
    assert pick_configs(records, info, "smallest-within 10%").picked.number == 2


def test_best_keeps_the_validation_order():
    picked = pick_configs(STUDY, INFO, "best")
    assert [r.number for r in picked.order] == [0, 3, 1, 2] and picked.measure is None
    assert picked.to_dict()["rule"] == "best" and picked.describe() == ""


def test_without_a_measured_size_the_pick_goes_by_weights_and_says_so():
    records = [*STUDY[:3], replace(STUDY[3], size_bytes=None, n_params=100)]
    picked = pick_configs(records, INFO, "smallest-within 0.005")
    assert picked.measure == "n_params" and picked.picked.number == 3
    assert picked.notes == ["saved size not measured for trial(s) 3: picked by weights (n_params)"]


def test_fastest_within_uses_the_latencies_measured_again_while_they_are_current():
    quiet = QuietFootprint(
        trials={
            0: {"latency_ms": 0.8, "latency_ms_256": 0.01},
            1: {"latency_ms": 0.7},
            3: {"latency_ms": 0.4},
        },
        last_trial=4,
        where="the retrain",
    )
    picked = pick_configs(STUDY, INFO, "fastest-within 0.005", quiet=quiet)
    assert picked.picked.number == 3 and picked.measure == "latency_ms" and picked.quiet is quiet
    entry = picked.to_dict()
    assert entry["picked"]["latency_ms"] == 0.4 and entry["best"]["latency_ms"] == 0.8
    assert entry["picked"]["latency_measured"] == "again, in one process (the retrain)"
    # Without a record (or a stale one, before a trial that completed later) the trials' own latencies.
    picked = pick_configs(STUDY, INFO, "fastest-within 0.005", quiet=replace(quiet, last_trial=2))
    assert picked.picked.number == 1 and picked.quiet is None
    assert picked.notes == ["latencies as each trial measured them during the search (not measured again)"]
    assert picked.to_dict()["picked"]["latency_measured"] == "in its trial's process, during the search"


def test_what_metrics_json_records_of_the_pick():
    entry = pick_configs(STUDY, INFO, "smallest-within 0.5%").to_dict()
    assert entry["rule"] == "smallest-within" and entry["written"] == "smallest-within 0.5%"
    assert entry["tolerance"] == 0.005 and entry["relative"] is True and entry["measure"] == "size_bytes"
    assert entry["threshold"] == pytest.approx(0.95 * 0.995)
    assert entry["picked"] == {
        "trial": 1, "validation_score": 0.946, "n_params": 10_000, "size_bytes": 40_000, "latency_ms": 0.6,
        "latency_ms_256": 0.012, "latency_measured": "in its trial's process, during the search",
    }  # fmt: skip
    assert entry["best"]["trial"] == 0 and entry["best"]["size_bytes"] == 400_000


def test_a_pick_the_study_cannot_answer_is_one_line_naming_the_fix():
    single = replace(INFO, objectives=[])
    with pytest.raises(UserError) as info:
        check_pick(single, "smallest-within 0.01")
    message = str(info.value)
    assert message.startswith("`pick='smallest-within 0.01'` needs a search that traded the score against ")
    assert "recorded no size or params objective" in message and "`objectives=accuracy,size`" in message
    assert "\n" not in message
    with pytest.raises(UserError, match="recorded no latency objective"):
        check_pick(replace(INFO, objectives=["size"]), "fastest-within 1%")
    check_pick(replace(INFO, objectives=["params"]), "smallest-within 0.01")
    check_pick(single, "best")
    with pytest.raises(UserError, match="recorded no size or params"):
        pick_configs(STUDY, single, "smallest-within 0.01")


def test_a_study_without_measures_or_trials_is_one_line():
    unmeasured = [trial(0, 0.9, None, n_params=None), trial(1, 0.89, None, n_params=None)]
    with pytest.raises(UserError, match="has its saved size measured"):
        pick_configs(unmeasured, INFO, "smallest-within 0.1")
    with pytest.raises(UserError, match="has its latency at batch 1 measured"):
        pick_configs(unmeasured, INFO, "fastest-within 0.1")
    with pytest.raises(UserError, match="no complete trial to retrain"):
        pick_configs([], INFO, "smallest-within 0.1")


def test_a_pick_deploys_one_model_unless_an_ensemble_is_asked_whole():
    picking = RetrainPolicy(pick="smallest-within 0.01")
    assert deploy_plan(STUDY, INFO, picking) == (1, False)
    assert deploy_plan(STUDY, INFO, replace(picking, top_k=3)) == (3, False)  # retrained, the first deployed
    assert deploy_plan(STUDY, INFO, RetrainPolicy(pick="smallest-within 0.01", top_k=2, ensemble=True)) == (
        2,
        True,
    )
    assert deploy_plan(STUDY, INFO, RetrainPolicy()) == (5, True)  # today's default, unchanged
    cross_validated = replace(INFO, cv=5)
    assert bag_folds(cross_validated, picking) == 0
    assert bag_folds(cross_validated, RetrainPolicy()) == 5
