"""The library names Python arguments; the CLI shows the same messages with its flags."""

import pytest

from automl.cli._errors import flags_of, to_flags
from automl.engine import Budget
from automl.exceptions import UserError


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"trials": 0}, "`n_trials` must be at least 1, but got 0"),
        ({"trials": None}, "the search needs a budget: give `n_trials`, `timeout` (seconds), or both"),
        ({"trials": 1, "timeout": -1}, "`timeout` must be positive seconds, but got -1"),
        ({"trials": 1, "trial_timeout": 0}, "`trial_timeout` must be positive seconds, but got 0"),
    ],
)
def test_budget_names_what_the_python_caller_wrote(kwargs, message):
    with pytest.raises(UserError) as info:
        Budget(**kwargs)
    assert str(info.value) == message and "--" not in message


def test_the_python_api_says_n_trials(tmp_path):
    from automl.search import AutoMLSearch

    with pytest.raises(UserError, match=r"^`n_trials` must be at least 1, but got 0$"):
        AutoMLSearch(space="tiny", n_trials=0, run_dir=tmp_path / "run").fit("iris")


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (["--trials", "0"], "--trials must be at least 1, but got 0"),
        (["--trials", "1", "--timeout", "0"], "--timeout must be positive seconds, but got 0.0"),
        (["--trials", "1", "--trial-timeout", "0s"], "--trial-timeout must be positive seconds, but got 0.0"),
        (
            ["--trials", "1", "--resume", "--overwrite"],
            "--resume and --overwrite exclude each other; pick one",
        ),
        (["--trials", "1", "--name", "a/b"], "give either --name or --run-dir, not both"),
    ],
)
def test_the_cli_says_flags(tmp_path, cli, extra, expected):
    argv = ["search", "--dataset", "iris", "--space", "tiny", "--run-dir", str(tmp_path / "run"), *extra]
    code, _, err = cli(argv)
    assert code == 2, err
    assert expected in err and "`" not in err
    assert len(err.strip().splitlines()) == 1


def test_a_choice_written_as_an_argument_becomes_the_flag_and_its_value():
    flags = flags_of(["search", "--dataset", "x"])
    message = "the grid has 20000 configs; coarsen it, or use `algorithm='tpe'`"
    assert to_flags(message, flags) == "the grid has 20000 configs; coarsen it, or use --algorithm tpe"


def test_only_the_flags_of_the_command_that_ran_are_named():
    # Under `automl search`, `epochs` is a parameter of the space: there is no --epochs to point to.
    message = "under hyperband the algorithm owns the epoch budget: make `epochs` a fixed value"
    assert to_flags(message, flags_of(["search"])) == message
    retrain = flags_of(["retrain", "runs/x", "--top", "0"])
    assert to_flags("`top_k` must be at least 1, but got 0", retrain) == "--top must be at least 1, but got 0"
    assert to_flags("`epochs` must be 'best'", retrain) == "--epochs must be 'best'"
    run = flags_of(["run", "experiment.yaml", "--resume"])
    assert to_flags("run r already exists: add `resume` to continue it, or `overwrite`", run) == (
        "run r already exists: add --resume to continue it, or --overwrite"
    )
    # Backticked words that are no argument stay as they are.
    assert to_flags("`low <= high` must hold; use `step:`", flags_of(["search"])) == (
        "`low <= high` must hold; use `step:`"
    )


def test_every_translated_flag_exists_on_some_command():
    from automl.cli._errors import FLAGS

    everywhere = set().union(
        *(flags_of([c]) for c in ("search", "quickstart", "run", "retrain", "predict", "report", "worker"))
    )
    assert set(FLAGS.values()) <= everywhere


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--workers", "0"], "error: --workers must be at least 1, but got 0"),
        (["--workers", "two"], "error: --workers takes a number or 'auto', not 'two'"),
        (
            ["--workers", "2", "--gpus", "all"],
            "error: --workers makes CPU slots and --gpus / --gpu-ids GPU slots",
        ),
    ],
)
def test_device_flags_are_checked_in_their_own_names(tmp_path, cli, flags, message):
    code, _, err = cli(["search", "-d", "iris", "-s", "tiny", "--run-dir", str(tmp_path / "run"), *flags])
    assert code == 2 and err.startswith(message) and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "run").exists()
