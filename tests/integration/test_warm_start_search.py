"""Warm starts in real searches (tiny space, wine): the first trials are the portfolio's or an earlier
run's configs, in order, on both backends; bad values are one line at the command line."""

import json

import pytest

from automl import AutoMLSearch
from automl.exceptions import UserError
from automl.space import load_space
from automl.store import read_manifest
from automl.warmstart import WARM_START_ATTR, _portfolio, plan_warm_start

CONFIGS = [
    {"depth": 2, "units_0": 9, "units_1": 40, "activation": "gelu", "batch_norm": True, "dropout": 0.1,
     "l2": 2e-4, "optimizer": "sgd", "momentum": 0.5, "learning_rate": 0.02, "lr_schedule": "step",
     "decay_rate": 0.4, "decay_every": 2, "batch_size": 64},
    {"depth": 1, "units_0": 17, "activation": "tanh", "batch_norm": False, "dropout": 0.0,
     "l2": 1e-6, "optimizer": "adam", "learning_rate": 0.003, "lr_schedule": "cosine", "batch_size": 32},
    {"depth": 1, "units_0": 64, "activation": "relu", "batch_norm": False, "dropout": 0.3,
     "l2": 1e-3, "optimizer": "adam", "learning_rate": 0.1, "lr_schedule": "constant", "batch_size": 32},
]  # fmt: skip
#: the greedy order of the portfolio below (each candidate is best on one dataset).
PICKED = [CONFIGS[1], CONFIGS[0], CONFIGS[2]]


@pytest.fixture
def portfolio(tmp_path, monkeypatch):
    """A portfolio for the tiny space; ``wine`` is not among its datasets."""
    tiny = load_space("tiny")
    data = {
        "format": 1, "space": "tiny", "space_hash": tiny.content_hash, "built": {},
        "datasets": [{"name": n, "task": "binary", "metric": "accuracy", "direction": "maximize"}
                     for n in ("a", "b", "c")],
        "candidates": [{"source": "elsewhere", "params": p} for p in CONFIGS],
        "scores": [[0.9, 0.5, 0.5], [0.6, 0.8, 0.6], [0.5, 0.5, 0.7]],
    }  # fmt: skip
    folder = tmp_path / "portfolios"
    folder.mkdir()
    (folder / "tiny.json").write_text(json.dumps(data))
    monkeypatch.setattr(_portfolio, "portfolios_dir", lambda: folder)
    return folder


#: one validation split: K-fold scoring (``cv="auto"`` on a table as small as wine) is not what these test.
FAST = {"cv": 0}


def first_params(result, n):
    return [t.params for t in sorted(result.trials_, key=lambda t: t.number)[:n]]


def test_optuna_tries_the_portfolio_first(tmp_path, wine, portfolio):
    # 8 trials: a quarter is 2 configs.
    result = AutoMLSearch(
        space="tiny", n_trials=8, run_dir=tmp_path / "run", seed=0, warm_start="portfolio", **FAST
    ).fit(wine)
    assert first_params(result, 2) == PICKED[:2]
    assert len(result.trials_) == 8
    assert read_manifest(result.run_dir_).warm_start == "portfolio"
    # Resume (with the default setting) continues the run without enqueueing again.
    more = AutoMLSearch(space="tiny", n_trials=9, run_dir=tmp_path / "run", resume=True, **FAST).fit(wine)
    assert len(more.trials_) == 9 and first_params(more, 2) == PICKED[:2]
    assert sum(t.params in PICKED for t in more.trials_) == 2


@pytest.mark.slow  # 15 s; the Optuna test covers the portfolio's order, this KerasTuner's queue
def test_keras_tuner_random_tries_the_portfolio_first(tmp_path, wine, portfolio):
    result = AutoMLSearch(
        space="tiny", backend="keras_tuner", algorithm="random", n_trials=8, run_dir=tmp_path / "run",
        warm_start="portfolio", **FAST,
    ).fit(wine)  # fmt: skip
    assert first_params(result, 2) == PICKED[:2]
    assert read_manifest(result.run_dir_).warm_start == "portfolio"
    # The third trial is the oracle's own proposal.
    assert first_params(result, 3)[2] not in PICKED


def test_hyperband_refuses_an_explicit_warm_start_and_auto_skips_it(portfolio, monkeypatch):
    from automl.backends.keras_tuner._backend import KerasTunerBackend
    from automl.warmstart import _warm_start

    monkeypatch.setattr(_warm_start, "AUTO_PORTFOLIO", True)

    tiny = load_space("tiny")
    hyperband = KerasTunerBackend(algorithm="hyperband")
    with pytest.raises(UserError, match=r"^`warm_start=portfolio` cannot apply: KerasTuner's hyperband"):
        plan_warm_start("portfolio", tiny, hyperband)
    assert plan_warm_start("auto", tiny, hyperband).setting == "none"
    assert plan_warm_start("auto", tiny, KerasTunerBackend(algorithm="bayesian")).setting == "portfolio"


def test_an_earlier_run_gives_its_best_config_first(tmp_path, wine):
    first = AutoMLSearch(space="tiny", n_trials=2, run_dir=tmp_path / "first", warm_start="none", **FAST).fit(
        wine
    )
    second = AutoMLSearch(
        space="tiny", n_trials=4, run_dir=tmp_path / "second", seed=1, warm_start=first.run_dir_, **FAST
    ).fit(wine)
    assert first_params(second, 1) == [first.best_trial_.params]
    study_attrs = second._storage.get_study_user_attrs(
        second._storage.get_study_id_from_name(second.study_name_)
    )
    assert study_attrs[WARM_START_ATTR]["configs"] == [first.best_trial_.params]
    assert read_manifest(second.run_dir_).warm_start == str(first.run_dir_.resolve())


def test_cli_errors_are_one_line(tmp_path, cli, wine):
    first = AutoMLSearch(space="tiny", n_trials=1, run_dir=tmp_path / "first", warm_start="none", **FAST).fit(
        wine
    )
    base = ["search", "--dataset", "wine", "--trials", "4", "--run-dir", str(tmp_path / "cli")]
    code, _, err = cli([*base, "--space", "compact", "--warm-start", str(first.run_dir_)])
    assert code == 2 and len(err.strip().splitlines()) == 1, err
    assert "--warm-start: run" in err and "searched tiny" in err and "not space 'compact'" in err
    code, _, err = cli([*base, "--space", "tiny", "--warm-start", "nonsense"])
    assert code == 2 and len(err.strip().splitlines()) == 1, err
    assert "--warm-start takes 'auto', 'portfolio', 'none' or the directory of an earlier run" in err
    code, _, err = cli([*base, "--space", "tiny", "--algorithm", "grid", "--warm-start", "portfolio"])
    assert code == 2 and "--warm-start portfolio cannot apply" in err, err
