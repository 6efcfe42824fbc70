"""The quality benchmark's table: paired deltas and the short-against-long target, by hand on a few runs."""

from __future__ import annotations

import importlib.util
from pathlib import Path

QUALITY = Path(__file__).parents[3] / "benchmarks" / "quality.py"


def _quality():
    spec = importlib.util.spec_from_file_location("quality_benchmark", QUALITY)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _run(contender: str, budget: float, repeat: int, rmse: float) -> dict:
    return {
        "dataset": "toy",
        "budget": budget,
        "repeat": repeat,
        "contender": contender,
        "metric": "rmse",
        "n_test": 50,
        "test_score": rmse,
        "n_trials": 10,
        "search_seconds": budget,
        "retrain_seconds": 1.0,
        "val_score": rmse,
    }


def _cells(runs: list[dict], row_start: str) -> list[str]:
    """The cells of the table row that starts with ``row_start``."""
    table = _quality().render(runs)
    row = next(line for line in table.splitlines() if line.startswith(row_start))
    return [c.strip() for c in row.strip("|").split("|")]


def test_paired_delta_removes_the_split_and_judges_against_the_worse_script():
    # Split 0 is hard for everyone, split 1 easy: medians of each column would compare 7.5 with 7.0,
    # but on the same split automl is 1.0 better than optuna and 0.5 worse than kerastuner.
    runs = [
        _run("optuna", 60, 0, 11.0),
        _run("optuna", 60, 1, 4.0),
        _run("kerastuner", 60, 0, 9.5),
        _run("kerastuner", 60, 1, 2.5),
        _run("automl", 60, 0, 10.0),
        _run("automl", 60, 1, 3.0),
    ]
    cells = _cells(runs, "| toy | 60 | rmse")
    assert cells[6] == "+0.50"  # automl median 6.5 − kerastuner median 6.0
    assert cells[9] == "-1.00, +0.50"
    assert cells[10] == "behind"  # +0.5 RMSE against kerastuner is beyond 1 % of 6.0


def test_short_budget_is_set_against_the_scripts_long_budget():
    runs = [
        _run("automl", 60, 0, 5.0),
        _run("optuna", 180, 0, 5.02),
        _run("kerastuner", 180, 0, 6.0),
        _run("automl", 180, 0, 4.0),
    ]
    cells = _cells(runs, "| toy | 60 | 180")
    assert cells[3:8] == ["5.00", "5.02", "-0.02", "0.05", "level"]
    assert cells[8:] == ["-0.02, -1.00", "level"]


def test_a_deploy_alternative_is_judged_on_the_runs_own_search():
    # The alternative beats what was deployed by 0.5 on one search and loses by 2.0 on the other two:
    # the median of the paired differences is +2.0 RMSE, behind the default.
    runs = [
        {**_run("automl", 180, r, rmse), "deploy_scores": {"no-bag": rmse + delta}}
        for r, rmse, delta in ((0, 10.0, -0.5), (1, 4.0, 2.0), (2, 6.0, 2.0))
    ]
    cells = _cells(runs, "| toy | 180 | automl | no-bag")
    assert cells[4:] == ["8.00 (3)", "6.00", "+2.00", "0.06", "behind", "-"]  # its retrain not timed
    # with the alternative's retrain timed, the median seconds of both retrains
    timed = [{**run, "deploy_seconds": {"no-bag": 2.0 + run["repeat"]}} for run in runs]
    assert _cells(timed, "| toy | 180 | automl | no-bag")[-1] == "1.0 / 3.0"
    # Runs without alternatives add no section.
    assert "What to deploy" not in _quality().render([_run("automl", 60, 0, 5.0)])


def test_seed_spread_runs_once_what_a_repeat_already_runs():
    quality = _quality()
    assert quality.run_keys(3, 3) == [(0, 0), (1, 1), (2, 2), (0, 1), (0, 2)]
    assert quality.run_keys(0, 3) == [(0, 0), (0, 1), (0, 2)]
    assert quality.run_keys(2, 0) == [(0, 0), (1, 1)]
    # A record from before the seed spread searched with its split's seed.
    assert quality.key_of(_run("automl", 60, 2, 5.0)) == ("toy", 60.0, 2, 2, "automl")


def test_seed_spread_gives_median_and_max_minus_min_per_contender_on_one_split():
    seeds = {"optuna": (5.0, 5.4, 5.1), "kerastuner": (6.0, 6.02, 6.01), "automl": (4.0, 4.2, 4.1)}
    runs = [
        {**_run(contender, 60, 0, rmse), "seed": seed}
        for contender, scores in seeds.items()
        for seed, rmse in enumerate(scores)
    ]
    runs.append(_run("automl", 60, 1, 9.0))  # another split's repeat: not in the spread
    table = _quality().render(runs)
    assert "## Seed spread" in table
    automl = _cells(runs, "| toy | 60 | rmse | automl | 3")
    assert automl[5:9] == ["4.10", "4.00", "4.20", "0.20"]
    # 0.20 is within optuna's 0.40, beyond kerastuner's 0.02 by more than 1 % of the best script's 5.10.
    assert automl[11] == "> kerastuner"
    assert _cells(runs, "| toy | 60 | rmse | optuna | 3")[8:] == ["0.40", "60.0", "1.0", "-"]
    # The repeats-over-splits table keeps its own runs: seed 0 of split 0 is repeat 0; seeds 1, 2 are not.
    assert _cells(runs, "| toy | 60 | rmse | 5.00")[3:6] == ["5.00 (1)", "6.00 (1)", "6.50 (2)"]


def test_no_seed_spread_section_without_other_seeds():
    assert "Seed spread" not in _quality().render([_run("automl", 60, 0, 5.0), _run("automl", 60, 1, 6.0)])


def test_dataset_sets_expand_in_order_without_repeats():
    sets = {"small": ("a", "b"), "midsize": ("c",), "wide": ("a", "b", "c")}
    assert _quality().expand_datasets("small,c,wide,d", sets) == ["a", "b", "c", "d"]
