"""Retraining the winners on train+validation, one test evaluation, saved models and raw-input predictions."""

import dataclasses
import json
import math
import re
import statistics
import sys

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_iris

from automl import AutoMLSearch
from automl.cli import main
from automl.datasets import Dataset
from automl.exceptions import FatalError, UserError
from automl.metrics import probabilities, score
from automl.model import count_params
from automl.retrain import load_model, retrain_study
from automl.training import predict


@pytest.fixture(scope="module")
def searched(tmp_path_factory, wine):
    run_dir = tmp_path_factory.mktemp("retrain") / "run"
    return AutoMLSearch(space="tiny", n_trials=3, run_dir=run_dir, pruner="none").fit(wine)


def test_retrain_top_k_with_seeds_saves_the_top_config(searched):
    model = searched.retrain(top_k=2, seeds=2, ensemble=False).model
    report = searched.retrain_report_
    assert [c.rank for c in report.configs] == [1, 2]
    assert report.configs[0].trial == searched.best_trial_.number  # chosen by validation, not test
    assert all(len(c.runs) == 2 for c in report.configs)
    assert 0.0 <= searched.test_metrics_["accuracy"] <= 1.0 and "log_loss" in searched.test_metrics_
    # The reported test score is the mean over the top config's seeds, the spread their sample deviation.
    top = [run.test for run in report.configs[0].runs]
    for name in ("accuracy", "log_loss"):
        assert searched.test_metrics_[name] == pytest.approx(
            statistics.fmean(t[name] for t in top), rel=1e-12
        )
        assert searched.test_std_[name] == pytest.approx(
            statistics.stdev(t[name] for t in top), rel=1e-12, abs=1e-15
        )
    assert [run.seed for run in report.configs[0].runs] == [0, 1]
    # The returned model is the top config's first seed: its test accuracy is that run's.
    assert model.count_params() == count_params(searched.best_config_, searched.dataset_)
    output = predict(model, searched.dataset_.x_test)
    assert score("accuracy", searched.dataset_.task, searched.dataset_.y_test, output) == top[0]["accuracy"]

    folder = searched.run_dir_ / "models" / "wine"
    metrics = json.loads((folder / "metrics.json").read_text())
    assert metrics["saved"]["trial"] == searched.best_trial_.number
    assert math.isclose(metrics["test_score"], searched.test_metrics_["accuracy"])
    assert set(metrics["test_baselines"]) == {"majority", "linear"}
    assert json.loads((folder / "config.json").read_text()) == searched.best_config_
    assert (folder / "preprocessor.joblib").exists() and (folder / "history.json").exists()


def test_predictor_works_on_raw_rows(searched):
    searched.retrain()
    predictor = load_model(searched.run_dir_, "wine")
    from sklearn.datasets import load_wine

    frame = load_wine(as_frame=True).frame
    raw = frame.drop(columns="target").head(20)
    labels = predictor.predict(raw)
    assert len(labels) == 20 and set(map(str, labels)) <= {"0", "1", "2"}
    proba = predictor.predict_proba(raw)
    assert proba.shape == (20, 3) and np.allclose(proba.sum(axis=1), 1.0, atol=1e-5)

    # Predictions on raw rows match the saved model's on the preprocessed test split: find the raw rows of
    # the test split, then score the predictor on them as the retrain report scored the test split.
    wine = searched.dataset_
    features = frame.drop(columns="target")
    transformed = wine.preprocessor.transform(features)
    matches = [np.flatnonzero(np.all(np.isclose(transformed, row, atol=1e-6), axis=1)) for row in wine.x_test]
    assert all(len(m) == 1 for m in matches)
    rows = [int(m[0]) for m in matches]
    assert (frame["target"].to_numpy()[rows] == wine.y_test).all()
    raw_test = features.iloc[rows]
    saved = searched.test_metrics_  # the deployed model's: here the top configs averaged
    np.testing.assert_allclose(
        predictor.predict_proba(raw_test), probabilities(predict(predictor.model, wine.x_test)), atol=1e-6
    )
    labels = predictor.predict(raw_test)
    assert np.mean(np.asarray(labels).astype(int) == frame["target"].to_numpy()[rows]) == saved["accuracy"]
    assert score("log_loss", wine.task, wine.y_test, predictor.predict_proba(raw_test)) == pytest.approx(
        saved["log_loss"], rel=1e-5
    )


def test_epoch_policy_follows_how_the_search_stopped(searched, wine, tmp_path):
    best = searched.best_trial_
    converged = dataclasses.replace(best, stopped_by="early_stopping", best_epoch=2)
    report, _ = retrain_study(wine, [converged], searched.study_info_, tmp_path / "a")
    assert report.configs[0].epochs_policy == "best epoch 2"
    assert report.configs[0].runs[0].epochs == 2 and not report.configs[0].runs[0].early_stopping
    # A budget-truncated winner's epoch count is not a converged one: early stopping on a slice instead.
    truncated = dataclasses.replace(best, stopped_by="pruned", best_epoch=1)
    report, _ = retrain_study(wine, [truncated], searched.study_info_, tmp_path / "b")
    assert report.configs[0].epochs_policy.startswith("early stop on slice (pruned)")
    assert report.configs[0].runs[0].early_stopping
    report, _ = retrain_study(wine, [truncated], searched.study_info_, tmp_path / "c", epochs=2)
    assert report.configs[0].runs[0].epochs == 2


def test_search_never_reads_the_test_split(tmp_path, wine):
    reads: list[str] = []

    class Watched(Dataset):
        def __getattribute__(self, name):
            if name in ("x_test", "y_test"):
                caller = sys._getframe(1).f_code.co_name
                if caller not in ("fingerprint", "summary"):  # identity and sizes, not contents for a model
                    reads.append(caller)
            return super().__getattribute__(name)

    watched = Watched(**{f.name: getattr(wine, f.name) for f in dataclasses.fields(wine)})
    search = AutoMLSearch(space="tiny", n_trials=2, run_dir=tmp_path / "run").fit(watched)
    assert reads == [], f"the search read the test split in {reads}"
    search.retrain()
    assert reads, "retraining evaluates on the test split"


def test_cli_retrain_and_predict(tmp_path, capsys):
    run_dir = tmp_path / "run"
    assert (
        _main(["search", "-d", "iris", "-s", "tiny", "--trials", "2", "--run-dir", str(run_dir), "-q"]) == 0
    )
    capsys.readouterr()
    assert _main(["retrain", str(run_dir), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)[0]
    assert report["dataset"] == "iris" and 0 <= report["test_score"] <= 1
    assert report["search_seconds"] > 0 and report["retrain_seconds"] > 0
    assert report["time_limit"] is None  # a search bounded by trials: no limit
    assert _main(["retrain", str(run_dir), "--no-ensemble", "--time-limit", "20m"]) == 0
    shown = capsys.readouterr().out
    assert re.search(r"wall time: search \d+\.\d s, retrain \d+\.\d s \(limit 1200 s\)", shown), shown

    rows = tmp_path / "rows.csv"
    load_iris(as_frame=True).frame.drop(columns="target").head(7).to_csv(rows, index=False)
    out = tmp_path / "pred.csv"
    assert (
        _main(["predict", str(run_dir), "--dataset", "iris", "--input", str(rows), "-o", str(out), "--proba"])
        == 0
    )
    predictions = pd.read_csv(out)
    assert len(predictions) == 7 and "prediction" in predictions and "p_setosa" in predictions
    assert set(predictions["prediction"]) <= {0, 1, 2}

    assert _main(["predict", str(run_dir), "--dataset", "wine", "--input", str(rows)]) == 2
    assert "no retrained model for dataset 'wine'" in capsys.readouterr().err
    assert _main(["retrain", str(run_dir), "--epochs", "soon"]) == 2
    assert "--epochs must be 'best' or a positive number of epochs, but got 'soon'" in capsys.readouterr().err
    assert _main(["retrain", str(run_dir), "--dataset", "digits"]) == 2
    assert "the run has no dataset 'digits'" in capsys.readouterr().err


def test_retrain_without_complete_trials_is_one_line(tmp_path, wine):
    search = AutoMLSearch(
        space="tiny", n_trials=1, run_dir=tmp_path / "run", trial_timeout=1e-3, max_consecutive_failures=1
    )
    with pytest.raises(FatalError):
        search.fit(wine)
    with pytest.raises(UserError, match="no complete trial to retrain"):
        search.retrain()


def _main(argv):
    try:
        main(argv)
    except SystemExit as exit:
        return exit.code or 0
    return 0


def test_persistence_baseline_from_the_command_line_to_the_retrained_metrics(tmp_path, capsys):
    # A random walk: each value is the previous one plus exactly 1.5, so persistence is off by 1.5.
    rng = np.random.default_rng(0)
    level = np.cumsum(rng.normal(0, 5, 301))
    path = tmp_path / "walk.csv"
    pd.DataFrame({"noise": rng.normal(size=300), "lag1": level[:-1], "demand": level[:-1] + 1.5}).to_csv(
        path, index=False
    )
    run_dir = tmp_path / "run"
    argv = ["search", "-d", str(path), "--target", "demand", "--persistence", "lag1", "--split", "ordered"]
    argv += ["-s", "tiny"]
    with pytest.raises(SystemExit) as exit:
        main([*argv, "--trials", "1", "--run-dir", str(run_dir), "--json"])
    assert not exit.value.code
    doc = json.loads(capsys.readouterr().out)
    assert doc["baselines"]["persistence"] == pytest.approx(1.5, abs=1e-3)
    assert "baseline:persistence" in {row["trial"] for row in doc["leaderboard"]}

    reopened = AutoMLSearch.load(run_dir)  # the retrain reloads the CSV: same split, same persistence column
    reopened.retrain()
    assert reopened.dataset_.info["split"] == "ordered"
    assert reopened.retrain_report_.test_baselines["persistence"] == pytest.approx(1.5, abs=1e-3)
