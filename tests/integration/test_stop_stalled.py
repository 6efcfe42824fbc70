"""``--stop-stalled`` end to end with real fits: the search stops, `automl leaderboard` says why, and a
resumed run keeps the recorded rule and tolerance without being told again.

A tolerance of 2 (an improvement must triple the best accuracy) makes the count exact whatever the fits
score: the first complete trial sets the bar and every later one brings nothing.
"""

from __future__ import annotations

from automl.store import TrialState, load_stop, read_manifest

# One worker, in this process: no other worker's trial in flight when the search stops.
COMMON = ["-d", "iris", "-s", "tiny", "--trials", "12", "--algorithm", "random", "--pruner", "none",
          "--workers", "1", "-q", "--no-report"]  # fmt: skip


def test_stop_stalled_stops_says_why_and_survives_resume(tmp_path, cli):
    import automl

    run = tmp_path / "run"
    code, out, err = cli(
        ["search", *COMMON, "--run-dir", str(run), "--stop-stalled", "2", "--stall-tolerance", "2"]
    )
    assert code == 0, err
    assert "stopped: no improvement over 2 trials" in out
    budget = read_manifest(run).budget
    assert (budget.stall_trials, budget.stall_tolerance) == (2, 2.0)
    first = automl.AutoMLSearch.load(run)
    assert sum(r.state is TrialState.COMPLETE for r in first.trials_) == 3

    code, out, err = cli(["search", *COMMON, "--run-dir", str(run), "--resume"])
    assert code == 0, err
    again = automl.AutoMLSearch.load(run)
    assert sum(r.state is TrialState.COMPLETE for r in again.trials_) == 5  # two more, counted afresh
    assert (read_manifest(run).budget.stall_trials, read_manifest(run).budget.stall_tolerance) == (2, 2.0)
    stop = load_stop(f"sqlite:///{run / 'automl.db'}", again.study_name_)
    assert stop is not None and stop.trials == 2

    code, out, err = cli(["leaderboard", str(run)])
    assert code == 0, err
    assert f"stopped: {stop.describe()}" in " ".join(out.split())
