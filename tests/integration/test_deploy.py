"""What retrain deploys besides the top-1 model: an ensemble of the top configs, or a final fit on every row."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from automl import AutoMLSearch
from automl._keras import keras
from automl.datasets import load_dataset
from automl.exceptions import UserError


@pytest.fixture(scope="module")
def wine_run(tmp_path_factory):
    run = tmp_path_factory.mktemp("deploy") / "run"
    return AutoMLSearch(
        space="tiny", n_trials=3, devices=1, pruner="none", run_dir=run, algorithm="random"
    ).fit("wine")


def test_an_ensemble_averages_the_top_configs_and_loads_with_plain_keras(wine_run):
    predictor = wine_run.retrain(top_k=2, ensemble=True)
    report = wine_run.retrain_report_
    assert report.deployed == "ensemble" and report.ensemble["members"] == [c.trial for c in report.configs]
    folder = wine_run.run_dir_ / "models" / "wine"
    metrics = json.loads((folder / "metrics.json").read_text())
    assert metrics["deployed"] == "ensemble" and 0.0 <= metrics["ensemble"]["test"]["accuracy"] <= 1.0
    assert [c["test_mean"] for c in metrics["configs"]] == [c.mean("accuracy") for c in report.configs]
    plain = keras.models.load_model(folder / "model.keras")
    x = wine_run.dataset_.x_test
    members = [plain.get_layer(f"member_{i}") for i in (1, 2)]
    averaged = np.mean([np.asarray(m(x)) for m in members], axis=0)
    assert np.allclose(np.asarray(plain(x)), averaged, atol=1e-6)
    # The ensemble's own test score is that of its averaged probabilities.
    accuracy = float(np.mean(averaged.argmax(axis=1) == wine_run.dataset_.y_test))
    assert metrics["ensemble"]["test"]["accuracy"] == pytest.approx(accuracy)
    raw = load_dataset("wine").raw_rows[0].iloc[:5]
    assert len(predictor.predict(raw)) == 5


def test_a_final_fit_learns_from_every_row_and_keeps_the_honest_score(tmp_path):
    search = AutoMLSearch(space="tiny", n_trials=2, devices=1, pruner="none", run_dir=tmp_path / "run")
    search.fit("diabetes")
    predictor = search.retrain(final_fit=True)
    report = search.retrain_report_
    x_raw, y_raw = search.dataset_.raw_rows
    assert report.final_fit["rows"] == len(y_raw) == 442 and report.final_fit["test_score"] is None
    assert report.final_fit["epochs"] == report.configs[0].runs[0].epochs
    assert np.isfinite(report.test_score)  # the honest score, from the model before the final fit
    # The preprocessing was fitted again, on every row: the target's mean is all rows' mean.
    assert predictor.preprocessor.target_mean_ == pytest.approx(float(np.mean(y_raw)))
    assert search.dataset_.preprocessor.target_mean_ != pytest.approx(float(np.mean(y_raw)))
    folder = search.run_dir_ / "models" / "diabetes"
    metrics = json.loads((folder / "metrics.json").read_text())
    assert metrics["deployed"] == "final-fit" and "no honest test score" in metrics["final_fit"]["note"]
    assert keras.models.load_model(folder / "model.keras").count_params() == predictor.model.count_params()
    assert predictor.predict(x_raw.iloc[:4]).shape == (4,)


def test_final_fit_and_ensemble_are_one_choice_everywhere(cli, wine_run, tmp_path):
    with pytest.raises(UserError, match="deploy different models: choose one"):
        wine_run.retrain(top_k=2, final_fit=True, ensemble=True)
    with pytest.raises(UserError, match="an ensemble needs at least 2 configs"):
        wine_run.retrain(top_k=1, ensemble=True)
    with pytest.raises(UserError, match="`final_fit` and `bag` deploy different models: choose one"):
        wine_run.retrain(final_fit=True, bag=True)
    code, _, err = cli(["retrain", str(wine_run.run_dir_), "--final-fit", "--ensemble", "--top", "2"])
    assert (
        code == 2 and err.strip() == "error: --final-fit and --ensemble deploy different models: choose one"
    )
    from automl.experiment import parse_experiment

    path = tmp_path / "exp.yaml"
    path.write_text(
        "version: 1\nname: e\ndatasets: [wine]\nspaces: [tiny]\nbudget: {trials: 1}\n"
        "retrain: {top_k: 1, ensemble: true}\n"
    )
    with pytest.raises(
        UserError, match=r"exp.yaml:6: retrain.ensemble: an ensemble needs `top_k` of 2 or more"
    ):
        parse_experiment(path)
    path.write_text(path.read_text().replace("top_k: 1, ensemble: true", "final_fit: true"))
    assert parse_experiment(path).retrain.final_fit is True
    path.write_text(path.read_text().replace("final_fit: true", "bag: maybe"))
    with pytest.raises(UserError, match=r"exp.yaml:6: retrain.bag: give true, false or auto, not 'maybe'"):
        parse_experiment(path)
    code, _, err = cli(["retrain", str(wine_run.run_dir_), "--final-fit", "--bag"])
    assert code == 2 and err.strip() == "error: --final-fit and --bag deploy different models: choose one"


def test_an_ensemble_of_a_one_trial_run_deploys_its_model(tmp_path, caplog):
    search = AutoMLSearch(
        space="tiny", n_trials=1, devices=1, pruner="none", run_dir=tmp_path / "run", algorithm="random"
    ).fit("wine")
    search.retrain(top_k=3, ensemble=True)
    report = search.retrain_report_
    assert report.deployed == "top-1" and report.ensemble is None and len(report.configs) == 1
    assert "one finished config, no ensemble" in caplog.text
    # Left to its default, retrain deploys the one config quietly: nothing to average, nothing to warn of.
    caplog.clear()
    search.retrain()
    assert search.retrain_report_.deployed == "top-1" and "no ensemble" not in caplog.text


def test_by_default_a_cheap_search_deploys_every_config_it_finished_averaged(wine_run):
    wine_run.retrain()
    report = wine_run.retrain_report_
    assert report.deployed == "ensemble" and len(report.configs) == 3  # all three it finished
    assert report.deployed_test_score == report.ensemble["test"]["accuracy"]
    assert wine_run.test_metrics_ == report.ensemble["test"]  # the saved model's scores
    assert all(math.isnan(spread) for spread in wine_run.test_std_.values())
    metrics = json.loads((wine_run.run_dir_ / "models" / "wine" / "metrics.json").read_text())
    assert metrics["deployed_test_score"] == pytest.approx(report.ensemble["test"]["accuracy"])
    # Asked for the top-1 config, it deploys that alone.
    wine_run.retrain(ensemble=False)
    assert wine_run.retrain_report_.deployed == "top-1" and len(wine_run.retrain_report_.configs) == 1
