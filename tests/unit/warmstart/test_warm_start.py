"""Resolving `warm_start`, and enqueueing its configs into a real Optuna study (no TensorFlow)."""

import json

import optuna
import pytest

from automl.backends.optuna._backend import OptunaBackend
from automl.backends.optuna._space import suggest
from automl.exceptions import UserError
from automl.space import load_space
from automl.store import RunManifest
from automl.warmstart import (
    WARM_START_ATTR,
    WarmStart,
    _portfolio,
    check_warm_start,
    plan_warm_start,
    resumed_warm_start,
    warm_start_size,
    warm_start_study,
)


@pytest.fixture
def tiny():
    return load_space("tiny")


@pytest.fixture
def configs(tiny):
    """Three configs of the tiny space, with conditional and per-layer parameters."""
    return [
        {"depth": 2, "units_0": 9, "units_1": 40, "activation": "gelu", "batch_norm": True, "dropout": 0.1,
         "l2": 2e-4, "optimizer": "sgd", "momentum": 0.5, "learning_rate": 0.02, "lr_schedule": "step",
         "decay_rate": 0.4, "decay_every": 2, "batch_size": 64},
        {"depth": 1, "units_0": 17, "activation": "tanh", "batch_norm": False, "dropout": 0.0,
         "l2": 1e-6, "optimizer": "adam", "learning_rate": 0.003, "lr_schedule": "cosine", "batch_size": 32},
        {"depth": 1, "units_0": 64, "activation": "relu", "batch_norm": False, "dropout": 0.3,
         "l2": 1e-3, "optimizer": "adam", "learning_rate": 0.1, "lr_schedule": "constant", "batch_size": 32},
    ]  # fmt: skip


@pytest.fixture
def shipped(tmp_path, monkeypatch, tiny, configs):
    """A portfolio for the tiny space, where candidate i is best on dataset i (found on another one)."""
    data = {
        "format": 1, "space": "tiny", "space_hash": tiny.content_hash, "built": {},
        "datasets": [{"name": n, "task": "binary", "metric": "accuracy", "direction": "maximize"}
                     for n in ("a", "b", "c")],
        "candidates": [{"source": "elsewhere", "params": p} for p in configs],
        "scores": [[0.9, 0.5, 0.5], [0.6, 0.8, 0.6], [0.5, 0.5, 0.7]],
    }  # fmt: skip
    (tmp_path / "tiny.json").write_text(json.dumps(data))
    monkeypatch.setattr(_portfolio, "portfolios_dir", lambda: tmp_path)
    return tmp_path


@pytest.mark.parametrize(("n_trials", "k"), [(None, 5), (100, 5), (8, 2), (4, 1), (3, 0)])
def test_at_most_five_configs_and_never_more_than_a_quarter_of_the_trials(n_trials, k):
    assert warm_start_size(n_trials) == k


def test_words_and_run_directories(tmp_path):
    assert check_warm_start("Portfolio") == "portfolio"
    assert check_warm_start(None) == "none"
    (tmp_path / "run.yaml").write_text("kind: search\n")
    assert check_warm_start(tmp_path) == str(tmp_path.resolve())


@pytest.mark.parametrize("value", ["nonsense", 3, ""])
def test_anything_else_is_one_line_naming_the_choices(value, tmp_path):
    with pytest.raises(UserError) as info:
        check_warm_start(value)
    message = str(info.value)
    assert message.startswith(
        "`warm_start` takes 'auto', 'portfolio', 'none' or the directory of an earlier run"
    )
    assert "\n" not in message


def test_a_folder_that_is_no_run_is_refused(tmp_path):
    with pytest.raises(UserError, match=r"not .*\(no run there\)$"):
        check_warm_start(tmp_path)


def test_auto_takes_no_warm_start_while_the_portfolio_does_not_pay(shipped, tiny):
    assert plan_warm_start("auto", tiny, OptunaBackend()).setting == "none"


def test_auto_takes_the_portfolio_when_switched_on_and_the_space_ships_one(shipped, tiny, monkeypatch):
    from automl.warmstart import _warm_start

    monkeypatch.setattr(_warm_start, "AUTO_PORTFOLIO", True)
    warm = plan_warm_start("auto", tiny, OptunaBackend())
    assert warm.setting == "portfolio" and warm.portfolio is not None
    assert plan_warm_start("auto", load_space("cnn"), OptunaBackend()).setting == "none"


def test_grid_search_skips_auto_and_refuses_an_explicit_warm_start(shipped, tiny, monkeypatch):
    from automl.warmstart import _warm_start

    monkeypatch.setattr(_warm_start, "AUTO_PORTFOLIO", True)
    grid = OptunaBackend(algorithm="grid")
    assert plan_warm_start("auto", tiny, grid).setting == "none"
    with pytest.raises(
        UserError, match=r"^`warm_start=portfolio` cannot apply: grid search .*'none'` instead$"
    ):
        plan_warm_start("portfolio", tiny, grid)


def test_an_explicit_portfolio_for_a_space_without_one_is_refused(shipped):
    with pytest.raises(UserError, match=r"space 'cnn' ships no portfolio \(spaces with one: tiny\)"):
        plan_warm_start("portfolio", load_space("cnn"), OptunaBackend())


def test_a_resumed_run_keeps_its_warm_start():
    assert resumed_warm_start("portfolio", "auto") == "portfolio"
    assert resumed_warm_start("none", "none") == "none"
    with pytest.raises(UserError, match=r"^`resume` with another `warm_start`: the run started with 'none'"):
        resumed_warm_start("none", "portfolio")


def test_enqueued_configs_are_the_first_trials_exactly_as_suggest_proposes_them(shipped, tiny, configs):
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.RandomSampler(seed=0))
    backend = OptunaBackend(algorithm="tpe")
    warm = plan_warm_start("portfolio", tiny, backend)
    enqueued = warm_start_study(study, backend, tiny, warm, dataset="other", n_trials=12)
    # Greedy: each candidate is best on one dataset; the first has the lowest mean regret.
    assert enqueued == [configs[1], configs[0], configs[2]]
    for expected in enqueued:
        trial = study.ask()
        config, params = suggest(trial, tiny)
        assert params == expected
        assert config == {**expected, **tiny.fixed}
        study.tell(trial, 0.5)
    assert study.user_attrs[WARM_START_ATTR] == {"setting": "portfolio", "configs": enqueued}
    # Once only: a resumed study is not enqueued again.
    assert warm_start_study(study, backend, tiny, warm, dataset="other", n_trials=12) == []
    assert len(study.trials) == 3


def test_the_searched_dataset_is_left_out_of_the_portfolio(shipped, tiny, configs):
    warm = plan_warm_start("portfolio", tiny, OptunaBackend())
    # Without dataset a's column, config 0 (best only on a) comes last.
    assert warm.configs(tiny, dataset="a", fingerprint=None, n_trials=None) == [
        configs[1],
        configs[2],
        configs[0],
    ]


def test_none_enqueues_nothing(tiny):
    study = optuna.create_study()
    assert warm_start_study(study, OptunaBackend(), tiny, WarmStart(), dataset="a") == []
    assert WARM_START_ATTR not in study.user_attrs


def test_manifests_written_before_warm_starts_read_none():
    manifest = RunManifest.from_dict(
        {
            "manifest_version": 1, "kind": "search", "name": "old", "studies": ["s"],
            "datasets": [{"name": "wine"}], "spaces": [{"name": "tiny", "hash": "x"}],
            "backend": {"name": "optuna", "algorithm": "tpe"},
        }
    )  # fmt: skip
    assert manifest.warm_start == "none"
    assert RunManifest.from_dict(manifest.to_dict()).warm_start == "none"


def test_experiment_files_take_warm_start_and_name_the_line_of_a_bad_one(tmp_path):
    from automl.experiment import parse_experiment

    path = tmp_path / "exp.yaml"
    path.write_text("datasets: [wine]\nspaces: [tiny]\nbudget: {trials: 4}\nwarm_start: portfolio\n")
    assert parse_experiment(path).warm_start == "portfolio"
    path.write_text("datasets: [wine]\nspaces: [tiny]\nbudget: {trials: 4}\n")
    assert parse_experiment(path).warm_start == "auto"
    path.write_text("datasets: [wine]\nspaces: [tiny]\nbudget: {trials: 4}\nwarm_start: nonsense\n")
    with pytest.raises(UserError) as info:
        parse_experiment(path)
    message = str(info.value)
    assert message.startswith(
        f"{path}:4: warm_start: give auto, portfolio, none or the directory of an earlier run"
    )
    assert "\n" not in message
