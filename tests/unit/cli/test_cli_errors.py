"""The library names Python arguments; the CLI shows the same messages with its flags."""

import pytest

from automl.cli._errors import flags_of, to_flags
from automl.engine import Budget
from automl.exceptions import Argument, UserError


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
    error = UserError(
        "the grid has {size} configs; coarsen it, or use {algorithm}",
        size=20000,
        algorithm=Argument("algorithm", "tpe"),
    )
    assert str(error) == "the grid has 20000 configs; coarsen it, or use `algorithm='tpe'`"
    assert to_flags(error, flags) == "the grid has 20000 configs; coarsen it, or use --algorithm tpe"


def test_two_arguments_become_two_flags():
    error = UserError(
        "run r already exists: add {resume} to continue it, or {overwrite}",
        resume=Argument("resume"),
        overwrite=Argument("overwrite"),
    )
    assert to_flags(error, flags_of(["run", "experiment.yaml", "--resume"])) == (
        "run r already exists: add --resume to continue it, or --overwrite"
    )


def test_only_the_flags_of_the_command_that_ran_are_named():
    retrain = flags_of(["retrain", "runs/x", "--top", "0"])
    top_k = UserError("{top_k} must be at least 1, but got {got}", top_k=Argument("top_k"), got=0)
    assert to_flags(top_k, retrain) == "--top must be at least 1, but got 0"
    epochs = UserError("{epochs} must be 'best'", epochs=Argument("epochs"))
    assert to_flags(epochs, retrain) == "--epochs must be 'best'"
    # `automl search` has no --epochs: the argument keeps its Python name there.
    assert "--epochs" not in flags_of(["search"])
    assert to_flags(epochs, flags_of(["search"])) == "`epochs` must be 'best'"
    # Outside a command (no flag list), every argument of the table is a flag.
    assert to_flags(epochs) == "--epochs must be 'best'"


def test_an_argument_without_a_flag_keeps_its_python_name():
    error = UserError(
        "give {policy} or {top_k}, not both", policy=Argument("policy"), top_k=Argument("top_k")
    )
    assert to_flags(error, flags_of(["retrain", "runs/x"])) == "give `policy` or --top, not both"


def test_message_text_is_never_rewritten():
    # Backticked words that are no argument of the caller stay as they are, whatever the command has.
    hyperband = UserError("under hyperband the algorithm owns the epoch budget: make `epochs` a fixed value")
    assert to_flags(hyperband, flags_of(["retrain", "runs/x"])) == str(hyperband)
    assert to_flags(UserError("`low <= high` must hold; use `step:`"), flags_of(["search"])) == (
        "`low <= high` must hold; use `step:`"
    )
    # Plain strings and other exceptions pass through untouched.
    assert to_flags("`n_trials` must be at least 1", flags_of(["search"])) == "`n_trials` must be at least 1"
    assert to_flags(ValueError("`timeout` {x}")) == "`timeout` {x}"


def test_a_re_raise_with_a_prefix_keeps_the_arguments():
    error = UserError(
        "{trials_per_gpu} must be at least 1, but got {got}", trials_per_gpu=Argument("trials_per_gpu"), got=0
    )
    located = error.prefixed("experiment.yaml:3: devices: ")
    assert str(located) == "experiment.yaml:3: devices: `trials_per_gpu` must be at least 1, but got 0"
    assert located.arguments == (Argument("trials_per_gpu"),)
    assert (
        to_flags(located, flags_of(["search"]))
        == "experiment.yaml:3: devices: --trials-per-gpu must be at least 1, but got 0"
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


def _raised(call):
    with pytest.raises(UserError) as info:
        call()
    return info.value


def _library_errors(tmp_path):
    from automl.search import AutoMLSearch
    from automl.store import RetrainPolicy, prepare_run_dir, resolve_run_path
    from automl.warmstart import check_warm_start
    from automl.workers import DeviceRequest, plan_slots

    yield (
        ["search"],
        lambda: Budget(trials=0),
        (
            "`n_trials` must be at least 1, but got 0",
            "--trials must be at least 1, but got 0",
        ),
    )
    yield (
        ["search"],
        lambda: AutoMLSearch(space="tiny", n_trials="x", run_dir=tmp_path / "run").fit("iris"),
        (
            "`n_trials` must be a number of trials or 'auto', not 'x'",
            "--trials must be a number of trials or 'auto', not 'x'",
        ),
    )
    yield (
        ["search"],
        lambda: plan_slots(DeviceRequest(precision="half"), gpus=[], cpu_count=2),
        (
            "`precision` takes auto, float32 or mixed, not 'half'",
            "--precision takes auto, float32 or mixed, not 'half'",
        ),
    )
    yield (
        ["search"],
        lambda: plan_slots(DeviceRequest(workers=2, gpus=1), gpus=[], cpu_count=2),
        (
            "`workers` makes CPU slots and `gpus` / `gpu_ids` GPU slots: give one of them "
            "(with GPUs, `trials_per_gpu` sets the workers per GPU)",
            "--workers makes CPU slots and --gpus / --gpu-ids GPU slots: give one of them "
            "(with GPUs, --trials-per-gpu sets the workers per GPU)",
        ),
    )
    yield (
        ["retrain", "runs/x"],
        lambda: RetrainPolicy(seeds=0),
        (
            "`seeds` must be at least 1, but got 0",
            "--seeds must be at least 1, but got 0",
        ),
    )
    yield (
        ["retrain", "runs/x"],
        lambda: RetrainPolicy(final_fit=True, ensemble=True),
        (
            "`final_fit` and `ensemble` deploy different models: choose one",
            "--final-fit and --ensemble deploy different models: choose one",
        ),
    )
    yield (
        ["search"],
        lambda: prepare_run_dir(tmp_path / "r", resume=True, overwrite=True),
        (
            "`resume` and `overwrite` exclude each other; pick one",
            "--resume and --overwrite exclude each other; pick one",
        ),
    )
    yield (
        ["search"],
        lambda: resolve_run_path(name="a", run_dir="b", default_name="c"),
        (
            "give either `name` or `run_dir`, not both",
            "give either --name or --run-dir, not both",
        ),
    )
    yield (
        ["search"],
        lambda: check_warm_start(tmp_path / "nowhere"),
        (
            f"`warm_start` takes 'auto', 'portfolio', 'none' or the directory of an earlier run, "
            f"not {str(tmp_path / 'nowhere')!r} (no run there)",
            f"--warm-start takes 'auto', 'portfolio', 'none' or the directory of an earlier run, "
            f"not {str(tmp_path / 'nowhere')!r} (no run there)",
        ),
    )


def test_library_errors_read_in_both_wordings(tmp_path):
    for argv, call, (python, command_line) in _library_errors(tmp_path):
        error = _raised(call)
        assert error.arguments, python
        assert str(error) == python
        assert to_flags(error, flags_of(argv)) == command_line


def test_the_retrain_policy_words_its_key_bare_in_an_experiment_file():
    from automl.store import RetrainPolicy, RetrainPolicyError

    with pytest.raises(RetrainPolicyError) as info:
        RetrainPolicy(top_k=0)
    assert info.value.in_file == "top_k must be at least 1, but got 0"
    assert to_flags(info.value, flags_of(["retrain", "x"])) == "--top must be at least 1, but got 0"
