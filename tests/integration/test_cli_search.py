"""The search commands as a user types them: JSON output, exit codes, one-line errors, Ctrl-C and resume."""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest


def test_quickstart_searches_digits_and_shows_models_beside_the_baselines(tmp_path, cli):
    run_dir = tmp_path / "quickstart"
    code, out, err = cli(["quickstart", "--trials", "1", "--timeout", "60s", "--run-dir", str(run_dir)])
    assert code == 0, err
    assert "digits · compact · validation accuracy" in out
    assert "baseline linear" in out and "baseline majority" in out  # always shown, even below the top rows
    assert "best: trial" in out and "wall time" in out
    rows = (run_dir / "leaderboard.csv").read_text().splitlines()[1:]
    assert sum(",complete," in row for row in rows) == 1


def test_search_json_then_leaderboard_in_every_format(tmp_path, cli):
    run_dir = tmp_path / "run"
    argv = [
        "search",
        "--dataset",
        "iris",
        "--space",
        "tiny",
        "--trials",
        "3",
        "--run-dir",
        str(run_dir),
        "--json",
    ]
    code, out, err = cli(argv)
    assert code == 0, err
    doc = json.loads(out)
    assert doc["metric"] == "accuracy" and doc["direction"] == "maximize"
    assert doc["trials"].get("complete", 0) + doc["trials"].get("pruned", 0) == 3
    assert doc["best"]["config"]["epochs"] == 3
    assert {row["trial"] for row in doc["leaderboard"]} >= {"baseline:majority", "baseline:linear"}

    code, out, _ = cli(["leaderboard", str(run_dir), "--format", "csv"])
    assert code == 0 and out.startswith("rank,trial,state,score")
    code, out, _ = cli(["leaderboard", str(run_dir), "--format", "json", "--top", "1"])
    rows = json.loads(out)["rows"]
    assert [r["rank"] for r in rows if r["rank"] is not None] == [1]
    code, out, _ = cli(["leaderboard", str(run_dir), "--format", "markdown"])
    assert code == 0 and "| rank | trial | state | score | epochs | seconds | config |" in out
    code, out, _ = cli(["leaderboard", str(run_dir)])
    assert code == 0 and "iris · tiny · validation accuracy" in out

    # Running the same command again without --resume/--overwrite is refused, nothing lost.
    code, _, err = cli(argv)
    assert code == 2 and "add --resume to continue it, or --overwrite" in err
    assert (run_dir / "automl.db").exists()


@pytest.mark.parametrize(
    ("extra", "fragment"),
    [
        (["--backend", "nope"], "unknown backend 'nope'; use one of: optuna, keras_tuner"),
        (
            ["--algorithm", "bogus"],
            "unknown algorithm 'bogus' for backend optuna; use one of: tpe, random, cmaes",
        ),
        (["--storage", "ftp://x"], "bad storage URL 'ftp://x': expected sqlite:///path/to/file.db"),
        (
            ["--metric", "r2"],
            "metric does not apply to a multiclass task: 'r2'; use one of: accuracy, balanced_accuracy",
        ),
        (
            ["--timeout", "soon"],
            "--timeout: cannot read 'soon' as a duration; write seconds (90) or 20m / 1h",
        ),
        (["--space", "missing.yaml"], "missing.yaml: search space file not found; check the path"),
        (["--resume"], "nothing to resume in {run_dir}: run without --resume to start a new search"),
    ],
    ids=["backend", "algorithm", "storage", "metric", "timeout", "space", "resume"],
)
def test_bad_input_is_one_line_exit_2(tmp_path, cli, extra, fragment):
    argv = [
        "search",
        "--dataset",
        "iris",
        "--space",
        "tiny",
        "--trials",
        "1",
        "--run-dir",
        str(tmp_path / "r"),
        *extra,
    ]
    code, out, err = cli(argv)
    assert code == 2
    assert err.startswith("error: ") and fragment.format(run_dir=tmp_path / "r") in err, err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert out == ""
    assert not list(tmp_path.rglob("*.db")) and not list(tmp_path.rglob("*.log"))  # refused before any work


def test_unwritable_run_dir_is_one_line(tmp_path, cli):
    blocker = tmp_path / "file"
    blocker.write_text("")
    code, _, err = cli(["search", "--dataset", "iris", "--space", "tiny", "--run-dir", str(blocker / "run")])
    assert code == 2 and "cannot write the run directory" in err


def test_leaderboard_of_a_folder_that_is_no_run(tmp_path, cli):
    code, _, err = cli(["leaderboard", str(tmp_path)])
    assert code == 2 and "not an automl run directory" in err


def _finished(db):
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(db, timeout=1) as con:
            return con.execute(
                "select count(*) from trials where state in ('COMPLETE', 'PRUNED')"
            ).fetchone()[0]
    except sqlite3.Error:
        return 0


@pytest.mark.parametrize("backend", ["optuna", pytest.param("keras_tuner", marks=pytest.mark.slow)])
def test_ctrl_c_keeps_finished_trials_and_resume_continues(tmp_path, backend):
    run_dir = tmp_path / "run"
    argv = [sys.executable, "-m", "automl", "search", "--dataset", "iris", "--space", "tiny"]
    argv += ["--backend", backend, "--run-dir", str(run_dir)]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    # A shell or CI runner may start us with SIGINT ignored, which children inherit: restore the default so
    # the child's Python turns SIGINT into KeyboardInterrupt, as it does under a user's terminal.
    process = subprocess.Popen(
        [*argv, "--trials", "50"],
        stderr=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    deadline = time.monotonic() + 120
    while _finished(run_dir / "automl.db") < 2 and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.3)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130, err[-2000:]
    assert "every finished trial is kept; continue with: automl" in err and "--resume" in err
    kept = _finished(run_dir / "automl.db")
    assert kept >= 2

    resumed = subprocess.run(
        [*argv, "--trials", str(kept + 1), "--resume", "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=180,
    )
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    doc = json.loads(resumed.stdout)
    assert doc["trials"].get("complete", 0) + doc["trials"].get("pruned", 0) == kept + 1


def test_leaderboard_command_does_not_import_tensorflow(tmp_path, cli):
    run_dir = tmp_path / "run"
    code, _, err = cli(
        ["search", "-d", "iris", "-s", "tiny", "--trials", "1", "--run-dir", str(run_dir), "-q"]
    )
    assert code == 0, err
    probe = (
        "import sys\nfrom automl.cli import main\n"
        f"try:\n    main(['leaderboard', {str(run_dir)!r}])\nexcept SystemExit:\n    pass\n"
        "print('HEAVY=' + ','.join(m for m in ('tensorflow', 'keras') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert "HEAVY=\n" in out.stdout, out.stdout[-1000:] + out.stderr[-1000:]
    assert "iris · tiny" in out.stdout
