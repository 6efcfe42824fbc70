"""The cross-dataset table on hand-made leaderboards: normalisation, ranks, minimised metrics, renderings."""

import json
import math

import pandas as pd
import pytest

from automl.report import COLUMNS, across_datasets, render_across, study_leaderboard
from automl.store import StudyInfo, TrialRecord, TrialState


def board(dataset, space, scores, baselines, *, direction="maximize", metric="accuracy", algorithm="tpe"):
    info = StudyInfo(
        dataset=dataset,
        dataset_fingerprint="f",
        space=space,
        space_hash="h",
        task="multiclass" if direction == "maximize" else "regression",
        metric=metric,
        direction=direction,
        backend="optuna",
        algorithm=algorithm,
        baselines=baselines,
    )
    records = [
        TrialRecord(number=i, state=TrialState.COMPLETE, score=s, params={}, config={"units": 8 * (i + 1)})
        for i, s in enumerate(scores)
    ]
    frame = study_leaderboard(records, info)
    frame.attrs["study"] = f"exp/{dataset}/{space}/optuna-{algorithm}"
    return frame


def row(table, dataset, search):
    match = table[(table["dataset"] == dataset) & (table["search"] == search)]
    assert len(match) == 1
    return match.iloc[0]


def test_normalised_score_rank_and_mean_rank_over_two_searches():
    frames = [
        board("a", "mlp", [0.90, 0.80], {"majority": 0.5, "linear": 0.7}),
        board("a", "tiny", [0.75], {"majority": 0.5, "linear": 0.7}),
        board("b", "mlp", [0.60], {"majority": 0.4, "linear": 0.5}),
        board("b", "tiny", [0.70, 0.65], {"majority": 0.4, "linear": 0.5}),
    ]
    table = across_datasets(frames)
    assert list(table.columns) == COLUMNS
    assert table.attrs["datasets"] == ["a", "b"]
    a_mlp, a_tiny = row(table, "a", "mlp/optuna-tpe"), row(table, "a", "tiny/optuna-tpe")
    assert a_mlp["score"] == 0.90 and a_mlp["baseline"] == "linear" and a_mlp["baseline_score"] == 0.7
    assert a_mlp["normalised"] == pytest.approx(1.0)
    assert a_tiny["normalised"] == pytest.approx((0.75 - 0.7) / (0.90 - 0.7))
    assert (a_mlp["rank"], a_tiny["rank"]) == (1, 2)
    b_mlp = row(table, "b", "mlp/optuna-tpe")
    assert b_mlp["normalised"] == pytest.approx((0.60 - 0.5) / (0.70 - 0.5)) and b_mlp["rank"] == 2
    assert a_mlp["mean_rank"] == pytest.approx(1.5) and a_tiny["mean_rank"] == pytest.approx(1.5)
    assert a_mlp["trial"] == "0" and a_mlp["config"] == "units=8"
    # sorted by dataset, then rank
    assert list(table["rank"]) == [1, 2, 1, 2]


def test_minimised_metric_uses_the_same_formula():
    frames = [
        board("cars", "mlp", [3.0, 4.0], {"mean": 8.0, "linear": 5.0}, direction="minimize", metric="rmse"),
        board("cars", "tiny", [4.0], {"mean": 8.0, "linear": 5.0}, direction="minimize", metric="rmse"),
        board("cars", "wide", [6.0], {"mean": 8.0, "linear": 5.0}, direction="minimize", metric="rmse"),
    ]
    table = across_datasets(frames)
    mlp, tiny, wide = (row(table, "cars", f"{s}/optuna-tpe") for s in ("mlp", "tiny", "wide"))
    assert mlp["baseline"] == "linear" and mlp["baseline_score"] == 5.0  # the strongest is the lowest rmse
    assert mlp["normalised"] == pytest.approx(1.0) and mlp["rank"] == 1
    assert tiny["normalised"] == pytest.approx((4.0 - 5.0) / (3.0 - 5.0)) == pytest.approx(0.5)
    assert wide["normalised"] == pytest.approx(-0.5) and not wide["beats_baseline"]  # worse than the baseline
    assert list(table["search"]) == ["mlp/optuna-tpe", "tiny/optuna-tpe", "wide/optuna-tpe"]


def test_no_search_beats_the_baseline_leaves_normalised_empty():
    table = across_datasets([board("iris", "tiny", [0.9], {"majority": 0.33, "linear": 1.0})])
    only = table.iloc[0]
    assert math.isnan(only["normalised"]) and not only["beats_baseline"] and only["rank"] == 1


def test_a_search_without_complete_trials_has_no_rank():
    frames = [board("a", "mlp", [0.9], {"linear": 0.7}), board("a", "tiny", [], {"linear": 0.7})]
    table = across_datasets(frames)
    empty = row(table, "a", "tiny/optuna-tpe")
    assert math.isnan(empty["score"]) and pd.isna(empty["rank"]) and empty["config"] == ""
    assert table.iloc[-1]["search"] == "tiny/optuna-tpe"


def test_renderings():
    table = across_datasets(
        [board("a", "mlp", [0.9], {"linear": 0.7}), board("b", "mlp", [0.3], {"linear": 0.1})]
    )
    csv = render_across(table, "csv")
    assert csv.splitlines()[0] == ",".join(COLUMNS)
    doc = json.loads(render_across(table, "json"))
    assert doc["datasets"] == ["a", "b"] and doc["rows"][0]["normalised"] == 1.0
    markdown = render_across(table, "markdown")
    assert markdown.startswith("| dataset | search |") and "| a | mlp/optuna-tpe |" in markdown
    from rich.console import Console

    console = Console(width=160, record=True)
    console.print(render_across(table, "table"))
    assert "across datasets" in console.export_text()
    with pytest.raises(ValueError, match="unknown format"):
        render_across(table, "html")
