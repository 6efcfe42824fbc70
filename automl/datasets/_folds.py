"""K-fold cross-validation folds of a dataset's training + validation rows, for small tables.

With a few hundred rows one validation split is noise: the search then picks the config that was lucky on
it. Scoring each trial on K folds of the training + validation rows instead averages that luck away, at K
times the cost. Each fold is a :class:`Dataset` of its own whose preprocessing (imputation, scaling,
one-hot columns, the target's standardisation) is fitted on that fold's training rows only, as the
original split's is; the test split is never part of any fold.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np

from automl.exceptions import UserError

if TYPE_CHECKING:
    from automl.datasets._dataset import Dataset

__all__ = ["cv_folds", "fold_indices"]


def fold_indices(
    n_rows: int,
    k: int,
    *,
    seed: int,
    labels: np.ndarray | None = None,
    class_names: tuple[str, ...] | None = None,
) -> list[tuple[np.ndarray, np.ndarray]]:
    """``k`` (train rows, validation rows) index pairs covering ``0 … n_rows-1``, each row validated once.

    Rows are shuffled with ``seed``; with ``labels`` (``0 … k-1``, named by ``class_names`` in errors)
    the folds are stratified (each class spread evenly).

    Raises:
        UserError: ``k`` below 2 or above the rows, or a class with fewer than ``k`` rows.
    """
    from sklearn.model_selection import KFold, StratifiedKFold

    if k < 2:
        raise UserError(f"`cv` needs at least 2 folds, but got {k}")
    if k > n_rows:
        raise UserError(f"`cv={k}` needs at least {k} training + validation rows, but there are {n_rows}")
    if labels is None:
        splitter = KFold(n_splits=k, shuffle=True, random_state=seed)
        return [(train, val) for train, val in splitter.split(np.zeros(n_rows))]
    values, counts = np.unique(labels, return_counts=True)
    if counts.min() < k:
        smallest = values[int(np.argmin(counts))].item()
        if class_names is not None and 0 <= smallest < len(class_names):
            smallest = class_names[smallest]
        raise UserError(
            f"`cv={k}` needs at least {k} rows of every class, but class {smallest!r} has {counts.min()}; "
            "use fewer folds"
        )
    splitter = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed)
    return [(train, val) for train, val in splitter.split(np.zeros(n_rows), labels)]


def cv_folds(dataset: Dataset, k: int, *, seed: int | None = None, refit: bool = True) -> list[Dataset]:
    """``k`` datasets, one per fold of ``dataset``'s training + validation rows.

    Fold ``i`` trains on the other folds' rows and validates on its own, with preprocessing fitted again
    on its training rows (from ``dataset.raw_rows``; a :class:`Dataset` built by hand has none, and its
    folds reuse its preprocessed arrays; so do all folds with ``refit=False``, for models that must take
    one input, as the members of a bag do). The folds are seeded with ``seed`` (default the dataset's
    own), so every process of a search cuts the same folds.
    """
    from automl.datasets._build import take_rows

    seed = dataset.seed if seed is None else seed
    n = len(dataset.y_train) + len(dataset.y_val)
    x_ready, y_ready = dataset.train_val()
    labels = y_ready if dataset.task.is_classification else None
    folds = []
    for train_rows, val_rows in fold_indices(n, k, seed=seed, labels=labels, class_names=dataset.class_names):
        if not refit or dataset.raw_rows is None or dataset.preprocessor is None:
            folds.append(
                replace(
                    dataset,
                    x_train=x_ready[train_rows],
                    y_train=y_ready[train_rows],
                    x_val=x_ready[val_rows],
                    y_val=y_ready[val_rows],
                    persistence_val=None,
                )
            )
            continue
        x_raw, y_raw = dataset.raw_rows
        folds.append(
            dataset.refitted(
                (take_rows(x_raw, train_rows), y_raw[train_rows]),
                (take_rows(x_raw, val_rows), y_raw[val_rows]),
                (take_rows(x_raw, np.arange(n, len(y_raw))), y_raw[n:]),
            )
        )
    return folds
