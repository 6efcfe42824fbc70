"""``--max-params`` and an experiment's ``max_params:``: one-line refusals before anything trains, and the
leaderboard's footer on the proposals over the limit (the search itself: tests/unit/engine/test_limits.py)."""

from __future__ import annotations

import textwrap

import pytest

from automl.store import TrialState


def test_a_limit_below_the_smallest_model_is_one_line_before_any_training(tmp_path, cli):
    code, out, err = cli(
        ["search", "-d", "iris", "-s", "tiny", "--trials", "2", "--max-params", "5", "--workers", "1",
         "--run-dir", str(tmp_path / "run"), "-q", "--no-report"]
    )  # fmt: skip
    assert code == 2, out + err
    assert "max_params 5 is below the smallest model" in err and "raise max_params" in err
    assert "Traceback" not in err


@pytest.mark.parametrize("value", ["0", "2.5", "lots"])
def test_an_experiment_file_checks_its_max_params(tmp_path, cli, value):
    path = tmp_path / "exp.yaml"
    path.write_text(
        textwrap.dedent(
            f"""\
            datasets: [iris]
            spaces: [tiny]
            max_params: {value}
            budget: {{trials: 2}}
            """
        )
    )
    code, out, err = cli(["run", str(path), "--run-dir", str(tmp_path / "run")])
    assert code == 2, out + err
    assert "exp.yaml:3: max_params: give a whole number of weights" in " ".join(err.split())


def test_the_leaderboard_says_how_many_proposals_were_over_the_limit(tmp_path, cli):
    import automl

    run = tmp_path / "run"
    code, out, err = cli(
        ["search", "-d", "iris", "-s", "tiny", "--trials", "4", "--max-params", "100", "--workers", "1",
         "--algorithm", "random", "--run-dir", str(run), "-q", "--no-report"]
    )  # fmt: skip
    assert code == 0, err
    trials = automl.AutoMLSearch.load(run).trials_
    trained = [t for t in trials if t.state is not TrialState.SKIPPED]
    skipped = [t for t in trials if t.state is TrialState.SKIPPED]
    assert sum(t.state.finished for t in trained) == 4
    assert all(t.n_params <= 100 for t in trained if t.n_params)
    assert skipped and all(t.n_params > 100 for t in skipped)
    code, out, err = cli(["leaderboard", str(run)])
    assert code == 0, err
    assert f"skipped: {len(skipped)} of {len(trials)} proposals over max_params" in " ".join(out.split())
