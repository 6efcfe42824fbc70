"""AutoMLSearch as a scikit-learn user expects it: parameters, clone, fit(X, y), then predict on raw rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.datasets import load_diabetes, load_iris

import automl
from automl import AutoMLSearch
from automl.exceptions import UserError


def small(tmp_path, **kwargs) -> AutoMLSearch:
    return AutoMLSearch(
        space="tiny", n_trials=2, devices=1, pruner="none", run_dir=tmp_path / "run", **kwargs
    )


def test_parameters_repr_and_clone():
    options = {"factor": 2}
    search = AutoMLSearch(backend="keras_tuner", algorithm="hyperband", backend_options=options, n_trials=7)
    params = search.get_params()
    assert params["backend_options"] is options and params["n_trials"] == 7 and params["devices"] == "auto"
    assert "AutoMLSearch(" in repr(search) and "n_trials=7" in repr(search)
    twin = clone(search)
    assert twin is not search and twin.get_params() == params
    assert twin.set_params(n_trials=3, timeout=30) is twin
    assert (twin.n_trials, twin.timeout, search.n_trials) == (3, 30, 7)
    with pytest.raises(ValueError, match="Invalid parameter 'trials'"):
        twin.set_params(trials=3)


def test_fit_x_y_then_predict_proba_and_score_on_raw_rows(tmp_path):
    x, y = load_iris(return_X_y=True)
    names = np.array(["setosa", "versicolor", "virginica"])[y]  # labels as text, as users often have them
    search = small(tmp_path)
    with pytest.raises(UserError, match=r"predict\(\) needs the retrained model: call retrain\(\) first"):
        search.predict(x)
    assert search.fit(x, names) is search
    predictor = search.retrain()
    assert isinstance(predictor, automl.Predictor) and search.predictor_ is predictor
    assert predictor.model.count_params() > 0  # the Keras model
    labels = search.predict(x[:20])
    assert set(labels) <= set(names)
    proba = search.predict_proba(x[:20])
    assert proba.shape == (20, 3) and np.allclose(proba.sum(axis=1), 1.0, atol=1e-5)
    assert list(labels) == list(np.array(sorted(set(names)))[proba.argmax(axis=1)])
    accuracy = search.score(x, names)
    assert accuracy == pytest.approx(np.mean(search.predict(x) == names))
    # automl.load_model gives the same kind of object, predicting the same.
    loaded = automl.load_model(search.run_dir_, search.dataset_.name)
    assert isinstance(loaded, automl.Predictor)
    assert list(loaded.predict(x[:20])) == list(labels)
    # A reopened run predicts from its saved model.
    reopened = AutoMLSearch.load(search.run_dir_)
    reopened.dataset_ = search.dataset_
    assert list(reopened.predict(x[:20])) == list(labels)


def test_fit_a_frame_with_a_label_series_and_score_a_regression_as_r2(tmp_path):
    frame, target = load_diabetes(return_X_y=True, as_frame=True)
    search = small(tmp_path).fit(frame, target)  # y is a Series named "target"
    assert search.dataset_.task.value == "regression"
    search.retrain()
    predicted = search.predict(frame)
    truth = target.to_numpy()
    r2 = 1 - ((truth - predicted) ** 2).sum() / ((truth - truth.mean()) ** 2).sum()
    assert search.score(frame, target) == pytest.approx(r2, rel=1e-6)
    assert abs(predicted.mean() - truth.mean()) < 0.5 * truth.std()  # original units, not standardised
    with pytest.raises(UserError, match="predict_proba applies to classification"):
        search.predict_proba(frame)


def test_labels_go_with_the_data_they_belong_to(tmp_path):
    frame = pd.DataFrame({"a": [1.0, 2.0], "target": [0, 1]})
    with pytest.raises(UserError, match="X already has a column 'target'"):
        small(tmp_path).fit(frame, [0, 1])
    with pytest.raises(UserError, match="a file holds its own labels; name their column with target="):
        small(tmp_path).fit(tmp_path / "data.csv", [0, 1])


def test_the_public_names_users_catch_or_receive():
    assert issubclass(automl.MissingDependency, automl.UserError) and issubclass(
        automl.AutoMLWarning, Warning
    )
    assert automl.Predictor.__name__ == "Predictor"
    assert not hasattr(automl, "TrialPruned")  # automl never raises it: Optuna's own is what pruning uses


def test_a_time_budget_alone_is_spent_on_trials_not_capped_at_twenty(tmp_path):
    from automl.search import _trial_budget
    from automl.store import read_manifest

    assert (_trial_budget("auto", None), _trial_budget("auto", 180.0), _trial_budget(5, 180.0)) == (
        20,
        None,
        5,
    )
    with pytest.raises(UserError, match="`n_trials` must be a number of trials or 'auto'"):
        _trial_budget("many", None)
    search = AutoMLSearch(space="tiny", timeout=4, devices=1, run_dir=tmp_path / "run").fit("iris")
    budget = read_manifest(search.run_dir_).budget
    assert (budget.trials, budget.timeout) == (None, 4)
    assert search.get_params()["n_trials"] == "auto"
