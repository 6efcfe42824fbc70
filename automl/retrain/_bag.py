"""Cross-validation bagging: a config deployed as the average of its K fold models.

Under cross-validation (small tables, ``cv`` of the search) the search scored each config by K models,
each fitted on K-1 folds and early-stopped on its own fold. Retraining one model on train + validation
for the folds' median best epoch replays a noisy epoch count on a noisy sample, and one such model can
land far from its config's cross-validated score. A bag trains the K fold models again, each stopping on
rows it does not fit, and averages them in one Keras model; every retrained config of an ensemble is one
bag. Measured in
``benchmarks/quality.py --deploy`` on the same searches (``benchmarks/results/quality.md``, "What to
deploy").

Every member takes the dataset's own preprocessing (the folds do not refit it), so the bag is one model
on one input, saved and served like any other; the test split is not part of any fold.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import replace
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from automl.datasets import Dataset
    from automl.store import RetrainPolicy, StudyInfo
    from automl.training import TrainResult

__all__ = ["BAG_FOLDS", "bag_folds", "train_bag"]

#: folds of a bag asked for (``bag=True``) after a search that scored trials on the validation split.
BAG_FOLDS = 5


def bag_folds(info: StudyInfo, policy: RetrainPolicy) -> int:
    """Fold models per retrained config: 0 for one model on train + validation.

    The policy's ``bag="auto"`` bags when the study was scored by cross-validation (its folds, as many)
    and neither a final fit nor a pick other than ``best`` is asked; ``True`` bags always (the study's
    folds, else :data:`BAG_FOLDS`). The policy checked its values when it was made.
    """
    bag = policy.bag
    # A pick of the smallest or fastest config deploys one model: K fold models are K times its footprint.
    if bag is False or (bag == "auto" and (policy.final_fit or info.cv < 2 or policy.pick != "best")):
        return 0
    return info.cv if info.cv >= 2 else BAG_FOLDS


def train_bag(
    config: dict[str, Any],
    dataset: Dataset,
    folds: int,
    *,
    seed: int,
    metric: str,
    epochs: int | None = None,
    time_limit: float | None = None,
) -> TrainResult:
    """Fit ``config`` once per fold of ``dataset``'s training + validation rows (the search's folds) and
    return one result whose model averages the fold models.

    Each member early-stops on its own fold (``epochs=None``: up to the config's epoch budget), or trains
    ``epochs`` epochs. The result's ``best_epoch`` and ``epochs_run`` are the members' medians, its
    ``history`` the first member's; the first failing member's failure is the result's. ``time_limit``
    seconds bound the whole bag: each member gets what is left of them, and a member cut short by them
    is kept (the result says ``timeout``).
    """
    from automl.datasets import cv_folds
    from automl.outcomes import FailureKind
    from automl.retrain._final import average_model
    from automl.training import train

    started = time.perf_counter()
    results = []
    cut: TrainResult | None = None
    for fold in cv_folds(dataset, folds, refit=False):
        left = None if time_limit is None else max(1e-3, time_limit - (time.perf_counter() - started))
        result = train(
            config, fold, epochs=epochs, seed=seed, metric=metric, fit_on="train",
            early_stopping=epochs is None, time_limit=left,
        )  # fmt: skip
        if result.failure is not None and not (result.failure is FailureKind.TIMEOUT and result.epochs_run):
            return result
        cut = cut or (result if result.failure is not None else None)
        results.append(result)
    model = average_model([r.model for r in results], dataset.input_shape, name="bag", part="fold")
    return replace(
        results[0],
        failure=None if cut is None else cut.failure,
        failure_detail="" if cut is None else cut.failure_detail,
        model=model,
        best_epoch=round(statistics.median(r.best_epoch for r in results)),
        epochs_run=round(statistics.median(r.epochs_run for r in results)),
        fit_seconds=sum(r.fit_seconds for r in results),
        n_params=sum(r.n_params for r in results),
    )
