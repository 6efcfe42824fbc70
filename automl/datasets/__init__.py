"""Datasets: offline built-ins, downloaded classics, CSV / Parquet / NPZ files and URLs.

Every dataset is split three ways with a seed (stratified for classification), preprocessed with statistics
of the training split only, and carries the fitted :class:`Preprocessor` so that a trained model can later
predict on raw inputs. Nothing here imports Keras or TensorFlow.

    >>> from automl.datasets import load_dataset
    >>> ds = load_dataset("breast_cancer", seed=0)
    >>> ds.task.value, ds.x_train.shape
    ('binary', (343, 30))
"""

from __future__ import annotations

from automl.datasets._baselines import baselines, baselines_on_test, validation_baselines
from automl.datasets._build import resolve_task, take_rows
from automl.datasets._dataset import Dataset, InputKind
from automl.datasets._download import cache_root
from automl.datasets._files import SUPPORTED_EXTENSIONS
from automl.datasets._folds import cv_folds, fold_indices
from automl.datasets._load import from_arrays, from_frame, load_dataset
from automl.datasets._preprocess import Preprocessor
from automl.datasets._registry import DatasetInfo, list_datasets, register_dataset, unregister_dataset
from automl.datasets._resolve import resolve_dataset
from automl.datasets._shared import open_shared, share_dataset
from automl.datasets._split import SPLITS

__all__ = [
    "SPLITS",
    "SUPPORTED_EXTENSIONS",
    "Dataset",
    "DatasetInfo",
    "InputKind",
    "Preprocessor",
    "baselines",
    "baselines_on_test",
    "cache_root",
    "cv_folds",
    "fold_indices",
    "from_arrays",
    "from_frame",
    "list_datasets",
    "load_dataset",
    "open_shared",
    "register_dataset",
    "resolve_dataset",
    "resolve_task",
    "share_dataset",
    "take_rows",
    "unregister_dataset",
    "validation_baselines",
]
