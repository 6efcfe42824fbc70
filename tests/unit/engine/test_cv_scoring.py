"""A study scored by K-fold cross-validation: the score is the folds' mean, the pruner sees running means
at fold boundaries, and the recorded best epoch is the folds' median (what a retrain replays)."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest
from sklearn.model_selection import StratifiedKFold
from stub_search import stub_search

from automl.exceptions import UserError
from automl.outcomes import StopReason
from automl.store import TrialState, load_study_info, open_storage
from automl.testing import StubTrainer
from automl.training import TrainResult


@dataclass
class FoldTrainer:
    """Scores a config by the data it is given: the mean label of the validation rows plus dropout, and
    a best epoch from the number of validation rows, so a hand computation over the folds can check it."""

    folds_seen: list[Any] = field(default_factory=list)

    def __call__(self, config: dict[str, Any], dataset: Any, *, seed: int = 0, **_: Any) -> TrainResult:
        self.folds_seen.append(dataset)
        score = float(np.mean(dataset.y_val)) + config["dropout"]
        return TrainResult(
            model=None, history={"val_accuracy": [score]}, best_epoch=len(dataset.y_val) % 7 + 1,
            best_score=score, metric="accuracy", direction="maximize", epochs_run=1,
            stopped_by=StopReason.MAX_EPOCHS, failure=None, failure_detail="", fit_seconds=0.01,
            n_params=10, effective_batch_size=16, seed=seed,
        )  # fmt: skip


def hand_folds(iris, k: int) -> list[np.ndarray]:
    """The validation labels of each fold, cut by hand as the docs say: stratified, shuffled, seeded."""
    y = np.concatenate([iris.y_train, iris.y_val])
    splitter = StratifiedKFold(n_splits=k, shuffle=True, random_state=iris.seed)
    return [y[val] for _, val in splitter.split(np.zeros(len(y)), y)]


def test_the_score_is_the_mean_over_folds_cut_as_documented(url, iris):
    trainer = FoldTrainer()
    result = stub_search(url, iris, trainer, trials=2, cv=3)
    assert len(trainer.folds_seen) == 6, "each trial trains once per fold"
    by_hand = hand_folds(iris, 3)
    for record in result.records:
        expected = [float(np.mean(labels)) + record.config["dropout"] for labels in by_hand]
        assert record.cv_scores == pytest.approx(expected)
        assert record.score == pytest.approx(statistics.fmean(expected))
        assert record.best_epoch == round(statistics.median(len(v) % 7 + 1 for v in by_hand))
    info = load_study_info(open_storage(url), "stub/iris/stub/run")
    assert info.cv == 3


def test_the_pruner_sees_a_running_mean_after_each_fold(url, iris):
    # dropout is the quality: after the startup trials, a config far below the median is pruned after a
    # fold, and its score is the mean of the folds it finished.
    trainer = StubTrainer()
    result = stub_search(
        url, iris, trainer, trials=12, cv=4, algorithm="random", pruner="median",
        options={"pruner_startup_trials": 3},
    )  # fmt: skip
    pruned = [r for r in result.records if r.state is TrialState.PRUNED]
    assert pruned, "some below-median configs are pruned at a fold boundary"
    for record in pruned:
        assert record.stopped_by == StopReason.PRUNED
        assert 1 <= len(record.cv_scores) < 4
        assert record.score == pytest.approx(statistics.fmean(record.cv_scores))
    complete = [r for r in result.records if r.state is TrialState.COMPLETE]
    assert all(len(r.cv_scores) == 4 for r in complete)


def test_a_failing_fold_fails_the_trial(url, iris):
    trainer = StubTrainer(fail=lambda c: "nan_loss" if c["dropout"] < 0.5 else None)
    result = stub_search(url, iris, trainer, trials=3, cv=3, max_consecutive_failures=50)
    failed = [r for r in result.records if r.state is TrialState.FAIL]
    assert failed and all(r.failure.startswith("nan_loss") for r in failed)
    assert all(r.config["dropout"] < 0.5 for r in failed)


def test_resume_keeps_the_studys_folds(url, iris):
    stub_search(url, iris, StubTrainer(), trials=1, cv=3)
    with pytest.raises(UserError, match="3-fold cross-validation"):
        stub_search(url, iris, StubTrainer(), trials=2, resume=True, cv=0)
    resumed = stub_search(url, iris, StubTrainer(), trials=2, resume=True)
    assert all(len(r.cv_scores) == 3 for r in resumed.records)


def test_auto_folds_only_small_data_under_a_time_budget(iris):
    from automl.backends import get_backend
    from automl.datasets import load_dataset
    from automl.engine import choose_folds

    optuna_backend = get_backend("optuna")()
    hyperband = get_backend("keras_tuner")(algorithm="hyperband")
    assert choose_folds("auto", iris, optuna_backend, timed=True) == 5
    assert choose_folds("auto", iris, optuna_backend, timed=False) == 0, "a trial count keeps its cost"
    assert choose_folds("auto", load_dataset("digits"), optuna_backend, timed=True) == 0, "1,437 rows"
    assert choose_folds("auto", iris, hyperband, timed=True) == 0
    assert choose_folds(3, iris, optuna_backend) == 3 and choose_folds("4", iris, optuna_backend) == 4
    assert choose_folds(0, iris, hyperband) == 0
    with pytest.raises(UserError, match="hyperband"):
        choose_folds(3, iris, hyperband)
    for bad in (1, -2, "many", True, 2.5):
        with pytest.raises(UserError, match="number of folds"):
            choose_folds(bad, iris, optuna_backend)
