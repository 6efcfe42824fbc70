"""``--stop-stalled`` / ``--stall-tolerance`` on `automl search` and `automl run`, and ``budget.stop_stalled`` in
an experiment file: bad values are one line naming the flag (or the file's line), before any work; a
resumed search keeps the recorded rule."""

from __future__ import annotations

from dataclasses import replace

import pytest

from automl.exceptions import UserError
from automl.experiment import parse_experiment
from automl.search import _resumed_stall
from automl.store import BudgetEntry, RunManifest

SEARCH = ["search", "--dataset", "iris", "--space", "tiny", "--trials", "3"]


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (["--stop-stalled", "0"], "--stop-stalled must be at least 1 trial, but got 0"),
        (
            ["--stop-stalled", "10x"],
            "--stop-stalled must be a number of trials (15) or a duration (10m, 1h), but got '10x'",
        ),
        (
            ["--stop-stalled", "5", "--stall-tolerance", "-1"],
            "--stall-tolerance must be zero or more (a fraction of the best score), but got -1.0",
        ),
    ],
)
def test_search_says_the_flag_in_one_line(tmp_path, cli, extra, expected):
    code, _, err = cli([*SEARCH, "--run-dir", str(tmp_path / "run"), *extra])
    assert code == 2, err
    assert err.strip() == f"error: {expected}" or err.strip().endswith(expected), err
    assert len(err.strip().splitlines()) == 1 and "`" not in err
    assert not (tmp_path / "run").exists()


BASE = """\
version: 1
datasets: [iris]
spaces: [tiny]
budget: {trials: 2, stop_stalled: STALL}
"""


@pytest.mark.parametrize(
    ("value", "expected"),
    [("15", (15, None)), ("10m", (None, 600.0)), ("'20'", (20, None))],
)
def test_an_experiment_file_reads_stop_stalled(tmp_path, value, expected):
    path = tmp_path / "experiment.yaml"
    path.write_text(BASE.replace("STALL", value) + "")
    budget = parse_experiment(path).budget
    assert (budget.stall_trials, budget.stall_seconds) == expected
    assert budget.stall_tolerance is None
    path.write_text(BASE.replace("STALL", value).replace("}", ", stall_tolerance: 0.01}"))
    assert parse_experiment(path).budget.stall_tolerance == 0.01


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            BASE.replace("STALL", "0"),
            "experiment.yaml:4: budget.stop_stalled: write a number of trials (15) or a duration (10m, 1h), "
            "but got 0",
        ),
        (
            BASE.replace("STALL", "soon"),
            "experiment.yaml:4: budget.stop_stalled: write a number of trials (15) or a duration (10m, 1h), "
            "but got 'soon'",
        ),
        (
            BASE.replace("STALL", "3, stall_tolerance: -1"),
            "experiment.yaml:4: budget.stall_tolerance: write a fraction of the best score, 0 or more "
            "(default 1e-3), but got -1",
        ),
    ],
)
def test_an_experiment_file_with_a_bad_value_is_one_line_with_its_line(tmp_path, text, expected):
    path = tmp_path / "experiment.yaml"
    path.write_text(text)
    with pytest.raises(UserError) as info:
        parse_experiment(path)
    assert str(info.value).endswith(expected)


def test_run_flags_override_the_file_and_say_the_flag(tmp_path, cli):
    path = tmp_path / "experiment.yaml"
    path.write_text(BASE.replace("STALL", "3"))
    code, _, err = cli(["run", str(path), "--run-dir", str(tmp_path / "run"), "--stop-stalled", "0"])
    assert code == 2 and err.strip().endswith("--stop-stalled must be at least 1 trial, but got 0"), err
    from automl.cli._experiment import _with_stall

    config = _with_stall(parse_experiment(path), "10m", 0.05)
    assert (config.budget.stall_trials, config.budget.stall_seconds, config.budget.stall_tolerance) == (
        None,
        600.0,
        0.05,
    )


def test_a_resumed_search_keeps_the_recorded_rule_unless_given_another():
    recorded = BudgetEntry(trials=20, stall_trials=15, stall_tolerance=0.01)
    asked = BudgetEntry(trials=30)
    assert _resumed_stall(asked, recorded, given=False) == replace(
        asked, stall_trials=15, stall_tolerance=0.01
    )
    other = BudgetEntry(trials=30, stall_seconds=600.0)
    assert _resumed_stall(other, recorded, given=True) == replace(other, stall_tolerance=0.01)


def test_the_manifest_keeps_the_rule():
    from automl.store import SpaceEntry
    from automl.store._schema import BackendEntry, DatasetEntry

    manifest = RunManifest(
        kind="search", name="r", datasets=(DatasetEntry(name="iris"),),
        spaces=(SpaceEntry(name="tiny", hash="h"),), backend=BackendEntry("optuna", "tpe"), studies=("s",),
        budget=BudgetEntry(trials=5, stall_seconds=600.0, stall_tolerance=0.02),
    )  # fmt: skip
    again = RunManifest.from_dict(manifest.to_dict()).budget
    assert (again.stall_trials, again.stall_seconds, again.stall_tolerance) == (None, 600.0, 0.02)
    # A run written before the rule reads no stall.
    old = manifest.to_dict()
    for key in ("stall_trials", "stall_seconds", "stall_tolerance"):
        del old["budget"][key]
    assert RunManifest.from_dict(old).budget.stall_trials is None
