"""K-fold cross-validation with real Keras: each trial's score is its folds' mean; the retrain bags each
config's fold models by default, or replays the folds' median best epoch on training + validation rows."""

from __future__ import annotations

import json
import statistics

import numpy as np
import pytest

import automl
from automl._keras import keras
from automl.exceptions import UserError
from automl.store import TrialState

SPACE = """\
  units: {type: int, low: 8, high: 32}
  learning_rate: {type: fixed, value: 0.05}
  epochs: {type: fixed, value: 40}
  patience: {type: fixed, value: 1}
"""


@pytest.fixture(scope="module")
def cv_search(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cv")
    space = folder / "space.yaml"
    space.write_text(f"version: 1\nname: small\nfamily: mlp\nparameters:\n{SPACE}")
    return automl.AutoMLSearch(
        space=str(space), n_trials=2, cv=3, seed=1, run_dir=folder / "run", devices="cpu"
    ).fit("iris")


def test_a_cv_search_scores_folds_and_retrains_their_median_epoch(cv_search):
    search = cv_search
    complete = [r for r in search.trials_ if r.state is TrialState.COMPLETE]
    assert complete
    for record in complete:
        assert len(record.cv_scores) == 3
        assert record.score == pytest.approx(statistics.fmean(record.cv_scores))
        assert record.stopped_by == "early_stopping" and 1 <= record.best_epoch < 40
    search.retrain(bag=False)
    best = search.retrain_report_.configs[0]
    winner = next(r for r in complete if r.number == best.trial)
    assert best.epochs_policy == f"best epoch {winner.best_epoch}"
    assert best.runs[0].epochs == winner.best_epoch
    assert 0.0 <= search.test_metrics_["accuracy"] <= 1.0


def test_after_a_cv_search_each_config_is_deployed_as_its_fold_models_averaged(cv_search):
    search = cv_search
    predictor = search.retrain(ensemble=False)
    report = search.retrain_report_
    assert report.bag == 3 and report.deployed == "top-1"
    assert report.configs[0].epochs_policy == "bag of 3 fold models, each early-stopped on its fold"
    folder = search.run_dir_ / "models" / "iris"
    assert json.loads((folder / "metrics.json").read_text())["bag"] == 3
    # The saved model is one Keras model averaging three fold models, each on the dataset's own inputs.
    plain = keras.models.load_model(folder / "model.keras")
    x = search.dataset_.x_test
    averaged = np.mean([np.asarray(plain.get_layer(f"fold_{i}")(x)) for i in (1, 2, 3)], axis=0)
    assert np.allclose(np.asarray(plain(x)), averaged, atol=1e-6)
    accuracy = float(np.mean(averaged.argmax(axis=1) == search.dataset_.y_test))
    assert search.test_metrics_["accuracy"] == pytest.approx(accuracy)
    assert predictor.model.count_params() == plain.count_params()
    # Folds as members of an ensemble of the top configs: an average of bags.
    search.retrain(top_k=2, ensemble=True)
    ensemble = keras.models.load_model(folder / "model.keras")
    assert [ensemble.get_layer(f"member_{i}").name for i in (1, 2)] == ["member_1", "member_2"]
    assert len(ensemble.get_layer("member_1").get_layer("fold_3").get_weights()) > 0


def test_cv_is_refused_where_it_cannot_apply(tmp_path):
    with pytest.raises(UserError, match="hyperband"):
        automl.AutoMLSearch(
            space="tiny", backend="keras_tuner", algorithm="hyperband", n_trials=1, cv=3,
            run_dir=tmp_path / "kt", devices="cpu",
        ).fit("iris")  # fmt: skip
    with pytest.raises(UserError, match="`cv` must be a number of folds"):
        automl.AutoMLSearch(space="tiny", n_trials=1, cv="many", run_dir=tmp_path / "bad").fit("iris")
