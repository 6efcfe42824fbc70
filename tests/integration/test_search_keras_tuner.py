"""Real KerasTuner searches on a real (small) dataset: mirroring into the store, Hyperband rounds and their
checkpoints, budgets, failures, resume after Ctrl-C, the CLI; and the shared backend contract (Hyperband's run is slow)."""

import dataclasses
import json

import numpy as np
import optuna
import pytest

from automl import AutoMLSearch, load_space
from automl.backends.keras_tuner import _checkpoints as checkpoints
from automl.backends.keras_tuner._backend import KerasTunerBackend
from automl.cli import main
from automl.engine import SearchSession, TrialRunner
from automl.exceptions import FatalError, UserError
from automl.store import TrialState
from automl.testing import BackendContract

SMALL = """\
  depth: {type: int, low: 1, high: 2}
  units: {type: int, low: 8, high: 32, log: true, per_layer: depth}
  optimizer: {type: choice, values: [adam, sgd]}
  momentum: {type: float, low: 0.0, high: 0.9, active_if: {optimizer: [sgd]}}
  learning_rate: {type: float, low: 1.0e-3, high: 1.0e-1, log: true}
  batch_size: {type: choice, values: [32, 64]}
  epochs: {type: fixed, value: EPOCHS}
  patience: {type: fixed, value: 3}
"""

GRID = """\
  units: {type: choice, values: [8, 16]}
  optimizer: {type: choice, values: [adam, sgd]}
  momentum: {type: float, low: 0.0, high: 0.9, step: 0.9, active_if: {optimizer: [sgd]}}
  epochs: {type: fixed, value: 1}
"""


def small(epochs=2):
    return SMALL.replace("EPOCHS", str(epochs))


def search(tmp_path, space, **kwargs):
    options = dict(space=space, backend="keras_tuner", n_trials=3, run_dir=tmp_path / "run", seed=0)
    options.update(kwargs)
    return AutoMLSearch(**options)


def stored(result):
    storage = f"sqlite:///{result.run_dir_ / 'automl.db'}"
    return optuna.load_study(study_name=result.study_name_, storage=storage).get_trials()


@pytest.mark.parametrize("algorithm", ["random", "bayesian", "grid", "hyperband"])
def test_every_algorithm_mirrors_its_trials_into_the_store(tmp_path, wine, space_file, capfd, algorithm):
    # Under bayesian, the third trial comes from the Gaussian process.
    options = {"num_initial_points": 2} if algorithm == "bayesian" else {}
    body = GRID if algorithm == "grid" else small()
    result = search(tmp_path, space_file(body), algorithm=algorithm, backend_options=options).fit(wine)
    assert result.study_info_.backend == "keras_tuner" and result.study_info_.algorithm == algorithm
    assert result.study_info_.pruner == "none"
    assert sum(t.state.finished for t in result.trials_) == 3

    trials = stored(result)  # plain Optuna, as optuna-dashboard reads it
    assert [t.number for t in trials] == [0, 1, 2]
    space = load_space(space_file(body))
    for t in trials:
        assert t.state == optuna.trial.TrialState.COMPLETE
        assert {"config", "history", "epochs_run", "n_params", "seed", "keras_tuner_trial_id"} <= set(
            t.user_attrs
        )
        assert t.user_attrs["size_bytes"] > 4 * t.user_attrs["n_params"] and t.user_attrs["latency_ms"] > 0
        assert t.user_attrs["seed"] == t.number  # seed 0 + trial number
        config = t.user_attrs["config"]
        assert space.validate_config(config) == config
        assert t.params == {k: v for k, v in config.items() if k not in space.fixed}
        assert set(t.distributions) == set(t.params)
        assert ("momentum" in t.params) == (t.params["optimizer"] == "sgd")
        if "depth" in t.params:
            assert ("units_1" in t.params) == (t.params["depth"] == 2)
        scores = t.user_attrs["history"]["val_accuracy"]
        assert list(t.intermediate_values.values()) == pytest.approx(scores)
    assert len({t.user_attrs["keras_tuner_trial_id"] for t in trials}) == 3
    if algorithm == "grid":
        assert len({json.dumps(t.params, sort_keys=True) for t in trials}) == 3
    # KerasTuner's own project lives in the run directory; it printed nothing on the console.
    assert list((tmp_path / "run" / "keras_tuner").glob("*/oracle.json"))
    out, err = capfd.readouterr()
    assert "Trial" not in out + err and "Best val_accuracy" not in out


@pytest.mark.slow  # configs: the contract suite; same seed, same history: tests/unit/training
def test_same_seed_gives_the_same_search(tmp_path, wine, space_file):
    path = space_file(small(epochs=1))
    first = search(tmp_path, path, n_trials=2, run_dir=tmp_path / "a").fit(wine)
    second = search(tmp_path, path, n_trials=2, run_dir=tmp_path / "b").fit(wine)
    assert [t.config for t in first.trials_] == [t.config for t in second.trials_]
    assert [t.score for t in first.trials_] == [t.score for t in second.trials_]


def test_hyperband_continues_promoted_trials_and_deletes_obsolete_checkpoints(
    tmp_path, wine, space_file, monkeypatch
):
    # max_epochs 3, factor 3: bracket 1 trains 3 models for 1 epoch and continues the best to epoch 3;
    # bracket 0 trains 2 models for 3 epochs; then the next iteration begins.
    calls = []
    run = TrialRunner.run

    def spy(self, config, **kwargs):
        calls.append((kwargs["model"] is not None, kwargs["initial_epoch"], kwargs["epochs"]))
        return run(self, config, **kwargs)

    monkeypatch.setattr(TrialRunner, "run", spy)
    kept = []
    prune = checkpoints.prune

    def counting_prune(project_dir, keep, *running):
        freed = prune(project_dir, keep, *running)
        kept.append(sorted(p.parent.name for p in project_dir.glob(f"trial_*/{checkpoints.CHECKPOINT}")))
        return freed

    monkeypatch.setattr(checkpoints, "prune", counting_prune)
    result = search(tmp_path, space_file(small(epochs=3)), algorithm="hyperband", n_trials=7).fit(wine)

    assert calls == [
        (False, 0, 1),
        (False, 0, 1),
        (False, 0, 1),
        (True, 1, 3),
        (False, 0, 3),
        (False, 0, 3),
        (False, 0, 1),
    ]
    trials = stored(result)
    first_round = trials[:3]
    best = max(first_round, key=lambda t: t.value)
    continued = trials[3]
    assert continued.user_attrs["keras_tuner_continued"] == best.user_attrs["keras_tuner_trial_id"]
    assert continued.user_attrs["continued_trial"] == best.number
    assert continued.user_attrs["initial_epoch"] == 1 and continued.user_attrs["epochs_run"] == 2
    assert sorted(continued.intermediate_values) == [2, 3]
    assert continued.user_attrs["config"] == best.user_attrs["config"]
    assert continued.user_attrs["seed"] == 3  # its own trial number
    assert all(t.user_attrs["epochs_run"] == 1 for t in first_round)

    # No more checkpoints than Hyperband can still promote: one while round 0 is open (the leader), none
    # once the bracket has continued its best; at the end only the open bracket's leader remains.
    # kept[0] is the prune at start-up, kept[i] the one after trial i - 1 ended.
    assert max(len(k) for k in kept) == 1
    assert kept[3] == [f"trial_{best.user_attrs['keras_tuner_trial_id']}"]
    assert kept[4] == [] and kept[-1] == [f"trial_{trials[6].user_attrs['keras_tuner_trial_id']}"]


@pytest.mark.slow  # the engine rule is in tests/unit/engine; the real path in the contract suite
def test_diverging_trials_are_recorded_as_failed_and_the_search_goes_on(tmp_path, wine, space_file):
    body = (
        small(epochs=1)
        .replace(
            "learning_rate: {type: float, low: 1.0e-3, high: 1.0e-1, log: true}",
            "learning_rate: {type: choice, values: [0.01, 1.0e+12]}",
        )
        .replace("optimizer: {type: choice, values: [adam, sgd]}", "optimizer: {type: choice, values: [sgd]}")
    )
    result = search(tmp_path, space_file(body), n_trials=3).fit(wine)
    failed = [t for t in result.trials_ if t.state is TrialState.FAIL]
    assert failed, "a learning rate of 1e12 must diverge"
    assert all(t.failure.startswith("nan_loss") and t.config["learning_rate"] == 1e12 for t in failed)
    assert sum(t.state.finished for t in result.trials_) == 3
    for t in stored(result):
        if t.state == optuna.trial.TrialState.FAIL:
            assert t.user_attrs["failure"].startswith("nan_loss") and t.value is None


@pytest.mark.slow  # the engine rule is in tests/unit/engine; the real path in the contract suite
def test_consecutive_failures_stop_the_search_and_keep_trials(tmp_path, wine, space_file):
    # Corrupt features make every trial's loss NaN, whatever KerasTuner proposes.
    poisoned = dataclasses.replace(wine, x_train=np.full_like(wine.x_train, np.nan))
    runner = search(tmp_path, space_file(small(epochs=1)), n_trials=5, max_consecutive_failures=2)
    with pytest.raises(FatalError, match="2 trials failed in a row"):
        runner.fit(poisoned)
    assert [t.state for t in runner.trials_] == [TrialState.FAIL, TrialState.FAIL]
    assert all(t.failure.startswith("nan_loss") for t in runner.trials_)


@pytest.mark.slow  # the engine rule is in tests/unit/engine; the real path in the contract suite
def test_wall_clock_budget_stops_the_search(tmp_path, wine, space_file, timed, check_time_budget):
    runner = search(tmp_path, space_file(small()), n_trials=None, timeout=3)
    result, started_at, elapsed = timed(lambda: runner.fit(wine))
    trials = check_time_budget(result, timeout=3, started_at=started_at, elapsed=elapsed, epochs=2)
    # Every trial that ran is mirrored into the store once, numbered in order.
    assert [t.number for t in stored(result)] == [t.number for t in trials] == list(range(len(trials)))


def test_the_trial_in_flight_at_the_deadline_is_cut_and_kept(
    tmp_path, wine, space_file, timed, check_time_budget, check_cut_at_deadline
):
    # 500 epochs without early stopping cannot finish in 2 s: the first trial runs into the deadline.
    body = small(epochs=500).replace(
        "patience: {type: fixed, value: 3}", "patience: {type: fixed, value: 500}"
    )
    runner = search(tmp_path, space_file(body), n_trials=None, timeout=2)
    result, started_at, elapsed = timed(lambda: runner.fit(wine))
    [trial] = check_time_budget(result, timeout=2, started_at=started_at, elapsed=elapsed, epochs=500)
    check_cut_at_deadline(trial, timeout=2, epochs=500)
    [frozen] = stored(result)
    assert frozen.state == optuna.trial.TrialState.COMPLETE and frozen.value == trial.score
    assert frozen.user_attrs["stopped_by"] == "budget"


@pytest.mark.parametrize("where", ["after_mirroring", pytest.param("mid_training", marks=pytest.mark.slow)])
def test_resume_after_ctrl_c_continues_to_the_budget_without_duplicates(
    tmp_path, wine, space_file, monkeypatch, where
):
    path = space_file(small(epochs=3))
    calls = {"n": 0}
    if where == "mid_training":
        target, name = TrialRunner, "run"
    else:  # the hardest moment: the trial is in the store, KerasTuner has not recorded its end
        target, name = SearchSession, "trial_finished"
    original = getattr(target, name)

    def interrupt_third(self, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return original(self, *args, **kwargs)

    monkeypatch.setattr(target, name, interrupt_third)
    with pytest.raises(KeyboardInterrupt):
        search(tmp_path, path, algorithm="hyperband", n_trials=5).fit(wine)
    monkeypatch.setattr(target, name, original)

    resumed = search(tmp_path, path, algorithm="hyperband", n_trials=5, resume=True).fit(wine)
    trials = stored(resumed)
    ids = [t.user_attrs["keras_tuner_trial_id"] for t in trials]
    assert len(ids) == len(set(ids)) == 5
    assert [t.number for t in trials] == list(range(5))
    assert sum(t.state.finished for t in resumed.trials_) == 5
    continued = [t for t in trials if "keras_tuner_continued" in t.user_attrs]
    assert len(continued) == 1 and continued[0].user_attrs["initial_epoch"] == 1


def test_cli_search_with_hyperband_json_then_leaderboard(tmp_path, capsys, space_file):
    run_dir = tmp_path / "run"
    argv = ["search", "--dataset", "wine", "--space", space_file(small(epochs=3)), "--backend", "keras_tuner"]
    argv += ["--algorithm", "hyperband", "--trials", "4", "--run-dir", str(run_dir), "--json"]
    try:
        main(argv)
    except SystemExit as exit:
        assert not exit.code
    out = capsys.readouterr().out
    doc = json.loads(out)  # nothing but our JSON on stdout
    assert doc["trials"] == {"complete": 4}
    assert doc["study"].endswith("/keras_tuner-hyperband")
    try:
        main(["leaderboard", str(run_dir), "--format", "csv"])
    except SystemExit as exit:
        assert not exit.code
    board = capsys.readouterr().out
    assert board.startswith("rank,trial,state,score") and len(board.strip().splitlines()) >= 4 + 2


@pytest.mark.parametrize(
    ("kwargs", "body", "fragment"),
    [
        (
            {"algorithm": "tpe"},
            None,
            "unknown algorithm 'tpe' for backend keras_tuner; use one of: random, bayesian, hyperband, grid",
        ),
        ({"pruner": "median"}, None, "unknown pruner 'median' for backend keras_tuner; use one of: none"),
        ({"algorithm": "grid"}, None, "grid search needs a finite space, but 'momentum'"),
        (
            {"algorithm": "hyperband"},
            "  units: {type: int, low: 8, high: 16}\n  epochs: {type: int, low: 1, high: 3}\n",
            "under hyperband the algorithm owns the epoch budget",
        ),
    ],
)
def test_bad_arguments_fail_before_any_trial(tmp_path, wine, space_file, kwargs, body, fragment):
    with pytest.raises(UserError) as info:
        search(tmp_path, space_file(body or small()), **kwargs).fit(wine)
    assert type(info.value) is UserError
    assert fragment in str(info.value) and "\n" not in str(info.value)
    # Refused before any trial: no KerasTuner trial folder, no trial row in any leaderboard written.
    assert not list((tmp_path / "run").glob("keras_tuner/*/trial_*"))
    rows = [
        line
        for board in (tmp_path / "run").rglob("leaderboard.csv")
        for line in board.read_text().splitlines()[1:]
    ]
    assert all(row.split(",")[1].startswith("baseline:") for row in rows), rows


def test_unknown_option_names_the_valid_ones():
    with pytest.raises(
        UserError, match="unknown option 'factor' for keras_tuner/random; use any of: directory"
    ):
        KerasTunerBackend(algorithm="random", options={"factor": 2})
    with pytest.raises(UserError, match="option factor of keras_tuner/hyperband must be at least 2, not 1"):
        KerasTunerBackend(algorithm="hyperband", options={"factor": 1})


@pytest.mark.slow  # 11 s; Hyperband's brackets are checked in the default tier through the Python API
def test_hyperband_factor_from_the_command_line_shapes_the_brackets(tmp_path, capsys, space_file):
    # max_epochs 4, factor 2: the first bracket trains 4 models for 1 epoch (factor 3 would train 3).
    run_dir = tmp_path / "run"
    argv = ["search", "-d", "wine", "-s", space_file(small(epochs=4)), "--backend", "keras_tuner"]
    argv += ["--algorithm", "hyperband", "--option", "factor=2", "--trials", "5", "--run-dir", str(run_dir)]
    with pytest.raises(SystemExit) as exit:
        main([*argv, "--json"])
    assert not exit.value.code
    json.loads(capsys.readouterr().out)
    loaded = AutoMLSearch.load(run_dir)
    assert loaded.backend_options == {"factor": 2}
    attrs = [t.user_attrs for t in stored(loaded)]
    epochs = [(a.get("initial_epoch", 0), a.get("initial_epoch", 0) + a["epochs_run"]) for a in attrs]
    assert epochs == [(0, 1)] * 4 + [(1, 2)]  # then the best two of four go on to epoch 2


class TestKerasTunerRandomContract(BackendContract):
    backend = "keras_tuner"
    algorithm = "random"


@pytest.mark.slow
class TestKerasTunerHyperbandContract(BackendContract):
    backend = "keras_tuner"
    algorithm = "hyperband"
