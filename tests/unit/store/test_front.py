"""The trade-off front of a study's records: dominance, ties, missing measures, and what counts as a trial."""

from __future__ import annotations

from dataclasses import replace

import pytest

from automl.exceptions import UserError
from automl.store import (
    StudyInfo,
    TrialRecord,
    TrialState,
    front_objectives,
    measure_of,
    pareto_front,
    remeasured_configs,
)

INFO = StudyInfo(
    dataset="digits", dataset_fingerprint="f", space="tiny", space_hash="h", task="multiclass",
    metric="accuracy", direction="maximize", backend="optuna", algorithm="tpe", objectives=["size"],
)  # fmt: skip


def trial(number: int, score: float | None, size: int | None, **fields) -> TrialRecord:
    fields.setdefault("n_params", None if size is None else size // 4)
    return TrialRecord(
        number=number, state=fields.pop("state", TrialState.COMPLETE), score=score, params={},
        size_bytes=size, **fields,
    )  # fmt: skip


def numbers(records) -> list[int]:
    return [r.number for r in records]


def test_the_front_keeps_what_no_other_trial_beats_on_both_smallest_first():
    records = [
        trial(0, 0.95, 9000),  # the best score: on the front
        trial(1, 0.90, 2000),  # smaller and worse: on the front
        trial(2, 0.89, 5000),  # beaten by 1 (smaller and better)
        trial(3, 0.93, 4000),  # between 1 and 0
        trial(4, 0.80, 1000),  # the smallest
        trial(5, 0.93, 4500),  # beaten by 3 (same score, smaller)
    ]
    assert numbers(pareto_front(records, INFO, "size")) == [4, 1, 3, 0]
    # weights are another measure, with another front
    records[2] = replace(records[2], n_params=10)
    assert numbers(pareto_front(records, INFO, "params")) == [2, 1, 3, 0]  # 4 is now beaten by 2


def test_a_lower_is_better_metric_keeps_the_lowest_scores():
    info = replace(INFO, metric="rmse", direction="minimize")
    records = [trial(0, 2.0, 9000), trial(1, 2.5, 2000), trial(2, 3.0, 3000), trial(3, 1.9, 9500)]
    assert numbers(pareto_front(records, info, "size")) == [1, 0, 3]


def test_ties_on_both_keep_each_trial_and_a_tie_on_one_keeps_the_better_on_the_other():
    records = [trial(0, 0.9, 100), trial(1, 0.9, 100), trial(2, 0.9, 200), trial(3, 0.95, 100)]
    assert numbers(pareto_front(records, INFO, "size")) == [3]
    records = [trial(0, 0.9, 100), trial(1, 0.9, 100), trial(2, 0.9, 200), trial(3, 0.95, 300)]
    assert numbers(pareto_front(records, INFO, "size")) == [0, 1, 3]


def test_only_complete_scored_measured_originals_count():
    records = [
        trial(0, 0.90, 5000),
        trial(1, 0.99, 100, state=TrialState.PRUNED),
        trial(2, 0.99, 100, state=TrialState.FAIL),
        trial(3, 0.99, 100, state=TrialState.SKIPPED),
        trial(4, 0.99, 100, repeat_of=0),  # a repeat is its original's trial
        trial(5, None, 100),
        trial(6, 0.99, None),  # a stand-in trainer's, or a footprint that failed: no measure
        trial(7, float("nan"), 100),
    ]
    assert numbers(pareto_front(records, INFO, "size")) == [0]
    assert pareto_front([trial(0, 0.9, None)], INFO, "size") == []
    assert pareto_front([], INFO, "latency") == []


def test_latency_is_the_batch_one_latency():
    records = [
        trial(0, 0.95, 900, latency_ms=0.5, latency_ms_256=0.01),
        trial(1, 0.90, 100, latency_ms=0.2, latency_ms_256=0.02),
        trial(2, 0.91, 100, latency_ms=0.7, latency_ms_256=0.001),
    ]
    assert numbers(pareto_front(records, INFO, "latency")) == [1, 0]
    assert measure_of(records[0], "latency") == 0.5 and measure_of(records[0], "size") == 900.0


def test_an_unknown_objective_is_one_line_with_the_closest_name():
    with pytest.raises(UserError, match=r"no measure 'sizes' \(did you mean 'size'\?\)") as info:
        pareto_front([], INFO, "sizes")
    assert "\n" not in str(info.value)


def test_a_study_shows_the_fronts_it_recorded_else_the_one_on_weights():
    assert front_objectives(INFO) == (["size"], True)
    assert front_objectives(replace(INFO, objectives=["latency", "params"])) == (["latency", "params"], True)
    assert front_objectives(replace(INFO, objectives=[])) == (["params"], False)


def test_the_configs_measured_again_are_the_union_of_every_front():
    records = [
        trial(0, 0.95, 9000, latency_ms=0.9),
        trial(1, 0.90, 2000, latency_ms=3.0),  # slowed by a neighbour: off the latency front, on the size one
        trial(2, 0.91, 8000, latency_ms=0.3),
        trial(3, 0.85, 8500, latency_ms=5.0),  # on none
    ]
    assert numbers(pareto_front(records, INFO, "latency")) == [2, 0]
    assert numbers(remeasured_configs(records, INFO)) == [0, 1, 2]
