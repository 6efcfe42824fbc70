"""The registry of datasets known by name: the built-ins and those users register."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, NamedTuple

import pandas as pd

from automl.datasets import _builtin, _remote
from automl.datasets._raw import RawData, arrays_to_raw, frame_to_raw
from automl.exceptions import DatasetError
from automl.tasks import Task

__all__ = ["DatasetInfo", "get_entry", "list_datasets", "register_dataset", "unregister_dataset"]

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


class DatasetInfo(NamedTuple):
    """What :func:`list_datasets` tells about a dataset (``task`` is ``None`` where it is inferred)."""

    name: str
    description: str
    task: Task | None
    offline: bool

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form: the task as its name (``None`` where it is inferred on load)."""
        return {
            "name": self.name,
            "description": self.description,
            "task": None if self.task is None else self.task.value,
            "offline": self.offline,
        }


@dataclass(frozen=True)
class Entry:
    info: DatasetInfo
    load: Callable[[Path], RawData]  # called with the cache root


def _sklearn(name: str) -> Callable[[Path], RawData]:
    return lambda _cache: _builtin.load_sklearn(name)


_BUILTINS: tuple[tuple[str, str, Task, bool, Callable[[Path], RawData]], ...] = (
    ("digits", "8x8 grey digit images (1,797; scikit-learn)", Task.MULTICLASS, True, _sklearn("digits")),
    ("breast_cancer", "breast cancer diagnosis, 30 features (569; scikit-learn)", Task.BINARY, True,
     _sklearn("breast_cancer")),
    ("wine", "wine cultivar, 13 measurements (178; scikit-learn)", Task.MULTICLASS, True, _sklearn("wine")),
    ("iris", "iris species, 4 measurements (150; scikit-learn)", Task.MULTICLASS, True, _sklearn("iris")),
    ("diabetes", "diabetes progression, 10 features (442; scikit-learn)", Task.REGRESSION, True,
     _sklearn("diabetes")),
    ("auto_mpg", "UCI Auto MPG: car fuel use, categorical and missing values (398)", Task.REGRESSION, True,
     lambda _cache: _builtin.load_auto_mpg()),
    ("mnist", "28x28 grey digits (60,000 + 10,000 test; download)", Task.MULTICLASS, False,
     _remote.load_mnist),
    ("fashion_mnist", "28x28 grey clothes (60,000 + 10,000 test; download)", Task.MULTICLASS, False,
     _remote.load_fashion_mnist),
    ("cifar10", "32x32 colour images (50,000 + 10,000 test; download)", Task.MULTICLASS, False,
     _remote.load_cifar10),
    ("imdb", "review sentiment, top 10,000 words (25,000 + 25,000 test; download)", Task.BINARY, False,
     _remote.load_imdb),
)  # fmt: skip
_REGISTRY: dict[str, Entry] = {
    name: Entry(DatasetInfo(name, description, task, offline), load)
    for name, description, task, offline, load in _BUILTINS
}


def list_datasets() -> list[DatasetInfo]:
    """Every dataset known by name, sorted: ``(name, description, task, offline)``."""
    return [entry.info for _, entry in sorted(_REGISTRY.items())]


def get_entry(name: str) -> Entry | None:
    return _REGISTRY.get(name)


def register_dataset(
    name: str,
    loader: Callable[[], Any],
    *,
    description: str = "",
    task: Task | str | None = None,
    target: str | None = None,
    offline: bool = True,
    overwrite: bool = False,
) -> None:
    """Make ``load_dataset(name)`` call ``loader()``.

    ``loader`` takes no arguments and returns one of: a DataFrame (its ``target`` column is the target,
    default the last column); ``(x, y)`` or ``(x, y, x_test, y_test)`` arrays (``x`` of rank 2 is a table,
    of rank 3-4 images; ``x_test`` is then an official test split); or the path of a data file. ``task``
    fixes the task (else inferred on load); ``offline`` says whether loading works without a network.

    Raises:
        DatasetError: an invalid name, or a name already taken and ``overwrite`` not set.
    """
    if not _NAME.match(name):
        raise DatasetError(f"invalid dataset name {name!r}: use letters, digits, '_', '.' and '-'")
    if name in _REGISTRY and not overwrite:
        raise DatasetError(
            f"a dataset named {name!r} is already registered; pass overwrite=True to replace it"
        )
    if not callable(loader):
        raise DatasetError(f"the loader of {name!r} must be callable, got {type(loader).__name__}")
    resolved = None if task is None or str(task) == "classification" else Task.parse(task)
    info = DatasetInfo(name, description or f"registered dataset {name}", resolved, offline)
    _REGISTRY[name] = Entry(info, partial(_call_user_loader, name, loader, target))


def unregister_dataset(name: str) -> None:
    """Forget a registered dataset (a no-op for unknown names)."""
    _REGISTRY.pop(name, None)


def _call_user_loader(name: str, loader: Callable[[], Any], target: str | None, _cache: Path) -> RawData:
    from automl.datasets._files import read_file

    result = loader()
    where = f"dataset {name!r}"
    if isinstance(result, pd.DataFrame):
        return frame_to_raw(result, target, where=where)
    if isinstance(result, str | Path):
        return read_file(result, target)
    if isinstance(result, tuple) and len(result) in (2, 4):
        return arrays_to_raw(*result, where=where)
    raise DatasetError(
        f"the loader of {where} returned {type(result).__name__}; return a DataFrame, (x, y), "
        "(x, y, x_test, y_test) or a file path"
    )
