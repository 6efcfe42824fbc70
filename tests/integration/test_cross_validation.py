"""K-fold cross-validation with real Keras: each trial's score is its folds' mean, and the retrain
replays the folds' median best epoch on training + validation rows."""

from __future__ import annotations

import statistics

import pytest

import automl
from automl.exceptions import UserError
from automl.store import TrialState

SPACE = """\
  units: {type: int, low: 8, high: 32}
  learning_rate: {type: fixed, value: 0.05}
  epochs: {type: fixed, value: 40}
  patience: {type: fixed, value: 1}
"""


def test_a_cv_search_scores_folds_and_retrains_their_median_epoch(tmp_path, space_file):
    search = automl.AutoMLSearch(
        space=space_file(SPACE), n_trials=2, cv=3, seed=1, run_dir=tmp_path / "run", devices="cpu"
    ).fit("iris")
    complete = [r for r in search.trials_ if r.state is TrialState.COMPLETE]
    assert complete
    for record in complete:
        assert len(record.cv_scores) == 3
        assert record.score == pytest.approx(statistics.fmean(record.cv_scores))
        assert record.stopped_by == "early_stopping" and 1 <= record.best_epoch < 40
    search.retrain()
    best = search.retrain_report_.configs[0]
    winner = next(r for r in complete if r.number == best.trial)
    assert best.epochs_policy == f"best epoch {winner.best_epoch}"
    assert best.runs[0].epochs == winner.best_epoch
    assert 0.0 <= search.test_metrics_["accuracy"] <= 1.0


def test_cv_is_refused_where_it_cannot_apply(tmp_path):
    with pytest.raises(UserError, match="hyperband"):
        automl.AutoMLSearch(
            space="tiny", backend="keras_tuner", algorithm="hyperband", n_trials=1, cv=3,
            run_dir=tmp_path / "kt", devices="cpu",
        ).fit("iris")  # fmt: skip
    with pytest.raises(UserError, match="`cv` must be a number of folds"):
        automl.AutoMLSearch(space="tiny", n_trials=1, cv="many", run_dir=tmp_path / "bad").fit("iris")
