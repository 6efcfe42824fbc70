"""Provenance: where a run was written and which files it was given, as the manifest records them.

:class:`Environment` (package versions, Python, hardware, from :func:`environment_info`) says what wrote
the run, so that a result can be reproduced; :func:`split_files` and :func:`file_sha256` record the
validation and test files a dataset was given, so that a run reloading them can tell they changed. No
TensorFlow here.
"""

from __future__ import annotations

import os
import platform
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

__all__ = ["Environment", "environment_info", "file_sha256", "split_files"]

_KERAS = ("keras", "tensorflow", "jax", "torch")  # Keras and the backends it may train on
_PACKAGES = ("automl", *_KERAS, "optuna", "keras-tuner", "scikit-learn", "numpy", "pandas")


def environment_info() -> dict[str, Any]:
    """Package versions, Python and hardware, recorded in the manifest so a result can be reproduced."""
    versions = {}
    for package in _PACKAGES:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            continue
    return {
        "versions": versions,
        "python": platform.python_version(),
        "hardware": {
            "platform": platform.platform(),
            "cpu_count": os.cpu_count(),
            "cuda_visible_devices": os.environ.get("CUDA_VISIBLE_DEVICES"),
        },
    }


@dataclass(frozen=True)
class Environment:
    """Where the run was last written: package versions, Python, hardware."""

    versions: dict[str, str] = field(default_factory=dict)
    python: str | None = None
    hardware: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def current(cls) -> Environment:
        return cls(**environment_info())


def split_files(*, validation: Any = None, test: Any = None) -> dict[str, Any]:
    """A :class:`~automl.store.DatasetEntry`'s record of the split files the user gave (paths among
    ``validation`` and ``test``; other values are rows in memory): each file's absolute path and SHA-256."""
    recorded: dict[str, Any] = {}
    for what, value in (("validation", validation), ("test", test)):
        if isinstance(value, str | os.PathLike):
            path = Path(value).resolve()
            recorded[f"{what}_file"] = str(path)
            recorded[f"{what}_sha256"] = file_sha256(path)
    return recorded


def file_sha256(path: str | Path) -> str:
    """The SHA-256 of a file's bytes (hex), how a run recognises the split files it was given."""
    import hashlib

    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
