"""The report's Optuna-made plots name what they show: the study's metric and epochs, not Optuna's defaults."""

from __future__ import annotations

import json

import pytest

from automl.report._figures import optuna_figures

OPTUNA_DEFAULTS = ("Intermediate Value", "Objective Value", "Best Value", "Step")


@pytest.fixture
def figures():
    import optuna

    def objective(trial):
        rate = trial.suggest_float("learning_rate", 1e-4, 1e-1, log=True)
        units = trial.suggest_int("total_units", 8, 64)
        for epoch in range(3):
            trial.report(rate * epoch + units / 100, epoch)
        return rate + units / 100

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.RandomSampler(seed=0))
    study.optimize(objective, n_trials=6)
    drawn, missing = optuna_figures(study, study.get_trials(), metric="accuracy", baselines={"majority": 0.3})
    assert missing == {}
    return drawn


def axis_title(figure: dict, axis: str) -> str | None:
    return (figure["layout"].get(axis, {}).get("title") or {}).get("text")


def test_per_epoch_plot_axes_are_epoch_and_the_metric(figures):
    intermediate = figures["intermediate"]
    assert axis_title(intermediate, "xaxis") == "epoch"
    assert axis_title(intermediate, "yaxis") == "validation accuracy"


def test_score_axes_name_the_metric(figures):
    assert axis_title(figures["history"], "yaxis") == "validation accuracy"
    assert axis_title(figures["slice"], "yaxis") == "validation accuracy"
    assert [t["name"] for t in figures["history"]["data"]][:2] == ["validation accuracy", "best so far"]


@pytest.mark.parametrize("name", ["history", "importances", "parallel", "slice", "intermediate"])
def test_no_optuna_default_names_left(figures, name):
    text = json.dumps(figures[name])
    assert not [default for default in OPTUNA_DEFAULTS if f'"{default}"' in text]
