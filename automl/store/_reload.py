"""A run's recorded dataset loaded again, exactly as searched: by a worker, a joining machine, retrain.

The manifest's dataset entry says where the data came from; the store sits above the datasets package, so
this is the one place that turns an entry back into a :class:`~automl.datasets.Dataset`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from automl.exceptions import UserError
from automl.store._provenance import file_sha256
from automl.store._schema import DatasetEntry

if TYPE_CHECKING:
    from automl.datasets import Dataset

__all__ = ["reload_dataset"]


def reload_dataset(entry: DatasetEntry, seed: int) -> Dataset:
    """The searched splits of ``entry`` again: its recorded source, target and split, the validation and
    test files it was given (refused if their bytes changed) and the run's seed."""
    from automl.datasets import load_dataset

    source = entry.source
    if not source or source in ("DataFrame", "arrays"):
        raise UserError(
            f"dataset {entry.name!r} came from Python objects, which the run cannot reload; "
            "retrain from Python with AutoMLSearch.retrain()"
        )
    for what, file, recorded in (
        ("validation", entry.validation_file, entry.validation_sha256),
        ("test", entry.test_file, entry.test_sha256),
    ):
        if file is None:
            continue
        if not Path(file).is_file():
            raise UserError(f"the {what} file {file} of dataset {entry.name!r} is missing; restore it")
        if recorded is not None and file_sha256(file) != recorded:
            raise UserError(
                f"the {what} file {file} of dataset {entry.name!r} changed since the search (its SHA-256 "
                "differs); restore the file the run was given"
            )
    return load_dataset(
        source,
        target=entry.target,
        task=entry.task,
        seed=seed,
        name=entry.name,
        persistence=entry.persistence,
        split=entry.split or "random",
        validation=entry.validation_file,
        test=entry.test_file,
        val_fraction=entry.val_fraction,
        test_fraction=entry.test_fraction,
    )
