"""When retrain bags a config (its K fold models averaged) instead of fitting one model on train +
validation: by default after a cross-validated search, with its folds; the explicit choices and their
contradictions."""

from __future__ import annotations

from dataclasses import replace

import pytest

from automl.exceptions import UserError
from automl.retrain._bag import BAG_FOLDS, bag_folds
from automl.store import StudyInfo

SPLIT = StudyInfo(
    dataset="diabetes", dataset_fingerprint="f", space="compact", space_hash="h", task="regression",
    metric="rmse", direction="minimize", backend="optuna", algorithm="tpe",
)  # fmt: skip
CV5, CV3 = replace(SPLIT, cv=5), replace(SPLIT, cv=3)


def test_auto_bags_with_the_searchs_folds_and_only_after_a_cross_validated_search():
    assert bag_folds(CV5, "auto") == 5
    assert bag_folds(CV3, "auto") == 3
    assert bag_folds(SPLIT, "auto") == 0
    # A final fit deploys one model refitted on every row: there is nothing to bag.
    assert bag_folds(CV5, "auto", final_fit=True) == 0


def test_what_the_caller_says_wins():
    assert bag_folds(CV5, False) == 0
    assert bag_folds(CV3, True) == 3
    assert bag_folds(SPLIT, True) == BAG_FOLDS == 5


@pytest.mark.parametrize(
    ("bag", "final_fit", "message"),
    [
        ("yes", False, "`bag` takes true, false or 'auto', not 'yes'"),
        (True, True, "`final_fit` and `bag` deploy different models: choose one"),
    ],
)
def test_contradictions_are_one_line(bag, final_fit, message):
    with pytest.raises(UserError) as info:
        bag_folds(CV5, bag, final_fit=final_fit)
    assert str(info.value) == message
