"""When retrain bags a config (its K fold models averaged) instead of fitting one model on train +
validation: by default after a cross-validated search, with its folds; the explicit choices (their
contradictions are the policy's to refuse: tests/unit/store/test_retrain_policy.py)."""

from __future__ import annotations

from dataclasses import replace

from automl.retrain._bag import BAG_FOLDS, bag_folds
from automl.store import RetrainPolicy, StudyInfo

SPLIT = StudyInfo(
    dataset="diabetes", dataset_fingerprint="f", space="compact", space_hash="h", task="regression",
    metric="rmse", direction="minimize", backend="optuna", algorithm="tpe",
)  # fmt: skip
CV5, CV3 = replace(SPLIT, cv=5), replace(SPLIT, cv=3)


def test_auto_bags_with_the_searchs_folds_and_only_after_a_cross_validated_search():
    assert bag_folds(CV5, RetrainPolicy(bag="auto")) == 5
    assert bag_folds(CV3, RetrainPolicy(bag="auto")) == 3
    assert bag_folds(SPLIT, RetrainPolicy(bag="auto")) == 0
    # A final fit deploys one model refitted on every row: there is nothing to bag.
    assert bag_folds(CV5, RetrainPolicy(bag="auto", final_fit=True)) == 0


def test_what_the_caller_says_wins():
    assert bag_folds(CV5, RetrainPolicy(bag=False)) == 0
    assert bag_folds(CV3, RetrainPolicy(bag=True)) == 3
    assert bag_folds(SPLIT, RetrainPolicy(bag=True)) == BAG_FOLDS == 5
