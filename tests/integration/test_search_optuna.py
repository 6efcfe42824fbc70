"""Real searches on a real (small) dataset through the Python API: store, budget, resume, failures."""

import dataclasses
import logging
import math
import os

import numpy as np
import optuna
import pandas as pd
import pytest
import yaml

from automl import AutoMLSearch, load_space
from automl.engine import TrialRunner
from automl.exceptions import FatalError, UserError
from automl.store import TrialState
from automl.training import latency_note

SMALL = """\
  depth: {type: int, low: 1, high: 2}
  units: {type: int, low: 8, high: 32, log: true, per_layer: depth}
  activation: {type: choice, values: [relu, tanh]}
  optimizer: {type: choice, values: [adam, sgd]}
  momentum: {type: float, low: 0.0, high: 0.9, active_if: {optimizer: [sgd]}}
  learning_rate: {type: float, low: 1.0e-3, high: 1.0e-1, log: true}
  batch_size: {type: choice, values: [32, 64]}
  epochs: {type: fixed, value: 2}
  patience: {type: fixed, value: 2}
"""


def search(tmp_path, space, **kwargs):
    options = dict(space=space, n_trials=3, run_dir=tmp_path / "run", seed=0)
    options.update(kwargs)
    return AutoMLSearch(**options)


def test_search_end_to_end_fills_results_and_store(tmp_path, wine, space_file):
    path = space_file(SMALL)
    runner = search(tmp_path, path, n_trials=4)
    verbosity, level = optuna.logging.get_verbosity(), logging.getLogger("automl").level
    optuna.logging.set_verbosity(optuna.logging.DEBUG)
    logging.getLogger("automl").setLevel(logging.ERROR)
    try:
        result = runner.fit(wine)
        # The caller's logging as it was: Optuna's verbosity and automl's logger level.
        assert optuna.logging.get_verbosity() == optuna.logging.DEBUG
        assert logging.getLogger("automl").level == logging.ERROR
    finally:
        optuna.logging.set_verbosity(verbosity)
        logging.getLogger("automl").setLevel(level)
    assert result is runner  # fit returns the search, as scikit-learn estimators do
    finished = [t for t in result.trials_ if t.state.finished]
    assert len(finished) == 4
    board = result.leaderboard_
    assert isinstance(board, pd.DataFrame)
    assert {"baseline:majority", "baseline:linear"} <= set(board["trial"])
    assert board["rank"].max() == sum(t.state is TrialState.COMPLETE for t in result.trials_)
    assert 0.0 <= result.best_score_ <= 1.0
    assert load_space(path).validate_config(result.best_config_) == result.best_config_

    run = tmp_path / "run"
    assert (run / "leaderboard.csv").read_text().startswith("rank,trial,state,score")
    manifest = yaml.safe_load((run / "run.yaml").read_text())
    assert manifest["kind"] == "search" and manifest["datasets"][0]["name"] == "wine"
    assert manifest["backend"] == {"name": "optuna", "algorithm": "tpe", "pruner": "median", "options": {}}
    environment = manifest["environment"]
    backend = os.environ.get("KERAS_BACKEND") or "tensorflow"
    assert manifest["keras_backend"] == backend and backend in environment["versions"]
    assert environment["hardware"]["cpu_count"] >= 1
    assert manifest["spaces"][0]["definition"] == load_space(path).to_dict()
    assert manifest["latency_measured"] == latency_note(manifest["devices"]["workers"])
    assert "trial 0" in (run / "automl.log").read_text()

    # What optuna-dashboard reads: plain Optuna APIs on the SQLite file.
    study = optuna.load_study(study_name=result.study_name_, storage=f"sqlite:///{run / 'automl.db'}")
    assert study.study_name == "run/wine/small/optuna-tpe"
    assert study.user_attrs["automl.metric"] == "accuracy"
    assert study.user_attrs["automl.manifest"] == manifest  # the storage keeps the run's manifest too
    assert set(study.user_attrs["automl.baselines"]) == {"majority", "linear"}
    trial = study.trials[0]
    assert {"config", "history", "best_epoch", "epochs_run", "fit_seconds", "n_params", "seed"} <= set(
        trial.user_attrs
    )
    for t in study.trials:  # a complete trial's footprint; a pruned one has none
        measured = {"size_bytes", "latency_ms", "latency_ms_256"} <= set(t.user_attrs)
        assert measured == (t.state == optuna.trial.TrialState.COMPLETE)
    assert len(trial.user_attrs["history"]["val_accuracy"]) == trial.user_attrs["epochs_run"]
    # Inactive parameters are never suggested.
    for t in study.trials:
        assert ("momentum" in t.params) == (t.params["optimizer"] == "sgd")
        assert ("units_1" in t.params) == (t.params["depth"] == 2)

    reopened = AutoMLSearch.load(run)
    assert reopened.best_score_ == result.best_score_
    assert list(reopened.leaderboard_["trial"]) == list(board["trial"])


def test_rerun_needs_resume_or_overwrite_and_resume_continues_to_budget(tmp_path, wine, space_file):
    path = space_file(SMALL)
    search(tmp_path, path, n_trials=2, algorithm="random").fit(wine)
    with pytest.raises(UserError, match=r"already exists: add `resume` to continue it, or `overwrite`"):
        search(tmp_path, path, n_trials=3).fit(wine)
    resumed = search(tmp_path, path, n_trials=3, algorithm="random", resume=True).fit(wine)
    assert sum(t.state.finished for t in resumed.trials_) == 3

    with pytest.raises(UserError, match="the run was searched with optuna/random, not optuna/tpe"):
        search(tmp_path, path, n_trials=4, resume=True).fit(wine)
    changed = space_file(SMALL.replace("high: 32", "high: 64"))
    with pytest.raises(UserError, match="`resume` with a different search space"):
        search(tmp_path, changed, n_trials=4, algorithm="random", resume=True).fit(wine)
    fresh = search(tmp_path, path, n_trials=1, overwrite=True).fit(wine)
    assert len(fresh.trials_) == 1


def test_resume_fails_trials_left_running_by_a_dead_process(tmp_path, wine, space_file):
    path = space_file(SMALL)
    first = search(tmp_path, path, n_trials=1).fit(wine)
    storage = f"sqlite:///{tmp_path / 'run' / 'automl.db'}"
    orphan = optuna.load_study(study_name=first.study_name_, storage=storage).ask()  # never told: RUNNING
    resumed = search(tmp_path, path, n_trials=2, resume=True).fit(wine)
    record = next(t for t in resumed.trials_ if t.number == orphan.number)
    assert record.state is TrialState.FAIL
    assert record.failure.startswith("interrupted")
    assert sum(t.state.finished for t in resumed.trials_) == 2


@pytest.mark.slow  # the engine rule is in tests/unit/engine; the real path in the contract suite
def test_diverging_trials_are_recorded_as_failed_and_search_continues(tmp_path, wine, space_file):
    body = SMALL.replace(
        "learning_rate: {type: float, low: 1.0e-3, high: 1.0e-1, log: true}",
        "learning_rate: {type: choice, values: [0.01, 1.0e+12]}",
    ).replace("optimizer: {type: choice, values: [adam, sgd]}", "optimizer: {type: choice, values: [sgd]}")
    result = search(tmp_path, space_file(body), n_trials=4, algorithm="random", pruner="none").fit(wine)
    failed = [t for t in result.trials_ if t.state is TrialState.FAIL]
    assert failed, "a learning rate of 1e12 must diverge"
    assert all(t.failure.startswith("nan_loss") and t.config["learning_rate"] == 1e12 for t in failed)
    assert sum(t.state.finished for t in result.trials_) == 4  # failed trials do not use the budget
    board = result.leaderboard_
    assert list(board.loc[board["state"] == "fail", "failure"].str[:8].unique()) == ["nan_loss"]


@pytest.mark.slow  # the engine rule is in tests/unit/engine; the real path in the contract suite
def test_consecutive_failures_stop_the_search_and_keep_trials(tmp_path, wine, space_file):
    # Corrupt features make every trial's loss NaN, whatever the sampled config.
    poisoned = dataclasses.replace(wine, x_train=np.full_like(wine.x_train, np.nan))
    runner = search(tmp_path, space_file(SMALL), n_trials=5, max_consecutive_failures=2)
    with pytest.raises(FatalError, match="2 trials failed in a row"):
        runner.fit(poisoned)
    assert len(runner.trials_) == 2 and all(t.state is TrialState.FAIL for t in runner.trials_)
    assert all(t.failure.startswith("nan_loss") for t in runner.trials_)
    assert (tmp_path / "run" / "leaderboard.csv").exists()


def test_trial_timeout_fails_the_trial_with_its_reason(tmp_path, wine, space_file):
    runner = search(tmp_path, space_file(SMALL), n_trials=2, trial_timeout=1e-3, max_consecutive_failures=2)
    with pytest.raises(FatalError):
        runner.fit(wine)
    assert all(t.failure.startswith("timeout") for t in runner.trials_)


@pytest.mark.slow  # 17 s: every config of a grid trained
def test_grid_search_visits_each_config_once(tmp_path, wine, space_file):
    body = """\
  units: {type: choice, values: [8, 16]}
  activation: {type: choice, values: [relu, tanh]}
  epochs: {type: fixed, value: 1}
"""
    result = search(tmp_path, space_file(body), n_trials=10, algorithm="grid").fit(wine)
    configs = {(t.config["units"], t.config["activation"]) for t in result.trials_}
    assert len(result.trials_) == 4 and len(configs) == 4


@pytest.mark.slow  # the engine rule is in tests/unit/engine; the real path in the contract suite
def test_wall_clock_budget_stops_the_search(tmp_path, wine, space_file, timed, check_time_budget):
    runner = search(tmp_path, space_file(SMALL), n_trials=None, timeout=4)
    result, started_at, elapsed = timed(lambda: runner.fit(wine))
    trials = check_time_budget(result, timeout=4, started_at=started_at, elapsed=elapsed, epochs=2)
    assert [t.number for t in trials] == list(range(len(trials)))


def test_the_trial_in_flight_at_the_deadline_is_cut_and_kept(
    tmp_path, wine, space_file, timed, check_time_budget, check_cut_at_deadline
):
    # 500 epochs without early stopping cannot finish in 2 s: the first trial runs into the deadline (and
    # the median pruner has no other trial to compare it with).
    body = SMALL.replace(
        "value: 2}\n  patience: {type: fixed, value: 2}", "value: 500}\n  patience: {type: fixed, value: 500}"
    )
    runner = search(tmp_path, space_file(body), n_trials=None, timeout=2)
    result, started_at, elapsed = timed(lambda: runner.fit(wine))
    [trial] = check_time_budget(result, timeout=2, started_at=started_at, elapsed=elapsed, epochs=500)
    check_cut_at_deadline(trial, timeout=2, epochs=500)
    assert result.best_trial_.number == 0 and result.best_score_ == trial.score


def test_runner_records_a_pruned_trial_with_its_last_score(wine):
    runner = TrialRunner(wine, metric="accuracy", seed=3)
    config = load_space("tiny").default_config()
    outcome = runner.run(config, number=0, report=lambda epoch, score: True)
    assert outcome.state is TrialState.PRUNED
    assert outcome.record.epochs_run == 1 and outcome.record.stopped_by == "pruned"
    assert outcome.score is not None and math.isfinite(outcome.score)
    # The pruned trial keeps the score it reported after its only epoch.
    assert outcome.score == outcome.record.score == outcome.record.history["val_accuracy"][0]
    assert outcome.record.seed == 3


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"backend": "sklearn"}, "unknown backend 'sklearn'; use one of: optuna, keras_tuner"),
        (
            {"algorithm": "annealing"},
            "unknown algorithm 'annealing' for backend optuna; use one of: tpe, random, cmaes, gp, grid, qmc, nsga2",
        ),
        (
            {"pruner": "wilcoxon"},
            "unknown pruner 'wilcoxon' for backend optuna; use one of: median, successive_halving, hyperband, none",
        ),
        (
            {"storage": "redis://localhost"},
            "bad storage URL 'redis://localhost': expected sqlite:///path/to/file.db",
        ),
        ({"n_trials": 0}, "`n_trials` must be at least 1, but got 0"),
        (
            {"metric": "rmse"},
            "metric does not apply to a multiclass task: 'rmse'; use one of: accuracy, balanced_accuracy, f1, auc, log_loss",
        ),
        ({"space": "cnn"}, "dataset 'wine' is tabular; use an MLP space such as mlp or tiny"),
    ],
    ids=["backend", "algorithm", "pruner", "storage", "trials", "metric", "space"],
)
def test_bad_arguments_fail_before_any_trial(tmp_path, wine, kwargs, fragment):
    with pytest.raises(UserError) as info:
        search(tmp_path, kwargs.pop("space", "tiny"), **kwargs).fit(wine)
    assert type(info.value) is UserError
    assert fragment in str(info.value) and "\n" not in str(info.value)
    # Refused before any work: no storage, log or leaderboard (at most the empty run folder).
    assert not [p for p in tmp_path.rglob("*") if p.is_file()]


@pytest.mark.parametrize(
    ("algorithm", "pruner"),
    [
        ("random", "successive_halving"),
        ("cmaes", "hyperband"),
        ("qmc", "none"),
        ("tpe", "median"),
        ("nsga2", "none"),
    ],
)
def test_every_sampler_and_pruner_runs(tmp_path, wine, space_file, algorithm, pruner):
    result = search(tmp_path, space_file(SMALL), n_trials=2, algorithm=algorithm, pruner=pruner).fit(wine)
    assert sum(t.state.finished for t in result.trials_) == 2
    assert result.study_info_.algorithm == algorithm and result.study_info_.pruner == pruner


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        (
            {"pruner": "median", "backend_options": {"reduction_factor": 2}},
            "unknown option 'reduction_factor' for optuna/tpe with pruner median; "
            "use any of: n_startup_trials, n_warmup_steps, pruner_startup_trials",
        ),
        (
            {"pruner": "hyperband", "backend_options": {"reduction_factor": 2.5}},
            "option reduction_factor of optuna/tpe with pruner hyperband takes an integer",
        ),
        ({"algorithm": "random", "backend_options": {"n_startup_trials": 5}}, "use any of: n_warmup_steps"),
    ],
)
def test_bad_backend_options_name_the_valid_ones(tmp_path, wine, kwargs, fragment):
    with pytest.raises(UserError) as info:
        search(tmp_path, "tiny", **kwargs).fit(wine)
    assert fragment in str(info.value)
    assert not (tmp_path / "run").exists()


def test_gp_without_torch_names_the_extra(tmp_path, wine):
    import importlib.util

    if importlib.util.find_spec("torch") is not None:
        pytest.skip("torch is installed here")
    with pytest.raises(UserError, match=r"pip install automl\[gp\]"):
        search(tmp_path, "tiny", algorithm="gp").fit(wine)


def test_fit_accepts_arrays_and_dataframes(tmp_path):
    from sklearn.datasets import load_iris

    data = load_iris(as_frame=True)
    frame = data.frame
    by_frame = AutoMLSearch(space="tiny", n_trials=1, run_dir=tmp_path / "frame").fit(frame, target="target")
    assert by_frame.dataset_.task.value == "multiclass" and by_frame.dataset_.name == "frame"
    by_arrays = AutoMLSearch(space="tiny", n_trials=1, run_dir=tmp_path / "arrays").fit(
        (data.data.to_numpy(), data.target.to_numpy())
    )
    for fitted in (by_frame, by_arrays):
        assert fitted.dataset_.task.value == "multiclass" and fitted.dataset_.n_classes == 3
        assert fitted.dataset_.input_shape == (4,)
        assert sum(len(getattr(fitted.dataset_, f"y_{part}")) for part in ("train", "val", "test")) == 150
        [trial] = fitted.trials_
        assert trial.state.finished and fitted.best_score_ == trial.score and 0.0 <= trial.score <= 1.0
    # The same rows, split with the same seed: a frame and its arrays are one dataset.
    np.testing.assert_array_equal(by_frame.dataset_.y_test, by_arrays.dataset_.y_test)
    with pytest.raises(UserError, match="needs target="):
        AutoMLSearch(space="tiny", n_trials=1, run_dir=tmp_path / "x").fit(frame)


@pytest.mark.skipif(
    (os.environ.get("KERAS_BACKEND") or "tensorflow") != "tensorflow", reason="TensorFlow's gradient registry"
)
def test_runner_frees_what_tracing_a_trial_registers(wine):
    # Each traced train step registers a gradient function in TensorFlow's process-wide registry, which
    # holds its graph (4 MB a model on digits): a worker that kept them grew without bound.
    from tensorflow.python.framework import ops as tf_ops

    from automl.training import train

    registry = tf_ops._gradient_registry._registry

    def custom() -> set[str]:
        return {name for name in registry if name.startswith("CustomGradient-")}

    config = {**load_space("tiny").default_config(), "epochs": 1}
    before = custom()
    train(config, wine, seed=0, metric="accuracy")
    assert custom() - before, "plain training registers gradients (what the runner must free)"
    before = custom()
    runner = TrialRunner(wine, metric="accuracy", seed=3)
    outcomes = [runner.run(config, number=n) for n in range(3)]
    assert [o.state for o in outcomes] == [TrialState.COMPLETE] * 3
    assert custom() == before
