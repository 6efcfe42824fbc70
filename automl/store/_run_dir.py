"""The run directory: where one search or experiment keeps its storage, resolved settings, log and outputs.

Layout::

    runs/<name>/experiment.yaml    resolved settings, package versions, hardware
    runs/<name>/automl.db          the Optuna storage (SQLite) unless another storage URL is given
    runs/<name>/automl.log         the log of every invocation on this run
    runs/<name>/leaderboard.csv    written after a search
    runs/<name>/keras_tuner/       KerasTuner project folders
    runs/<name>/models/<dataset>/  retrained models
"""

from __future__ import annotations

import logging
import os
import platform
import shutil
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import yaml

from automl.exceptions import UserError

__all__ = ["RunDir", "environment_info", "prepare_run_dir", "resolve_run_path"]

DEFAULT_ROOT = Path("runs")
_PACKAGES = ("automl", "keras", "tensorflow", "optuna", "keras-tuner", "scikit-learn", "numpy", "pandas")


@dataclass(frozen=True)
class RunDir:
    path: Path

    @property
    def experiment_file(self) -> Path:
        return self.path / "experiment.yaml"

    @property
    def db_file(self) -> Path:
        return self.path / "automl.db"

    @property
    def log_file(self) -> Path:
        return self.path / "automl.log"

    @property
    def leaderboard_file(self) -> Path:
        return self.path / "leaderboard.csv"

    @property
    def keras_tuner_dir(self) -> Path:
        return self.path / "keras_tuner"

    @property
    def models_dir(self) -> Path:
        return self.path / "models"

    @property
    def is_run(self) -> bool:
        return self.experiment_file.exists() or self.db_file.exists()

    @classmethod
    def open(cls, path: str | Path) -> RunDir:
        """An existing run. Raises UserError when ``path`` holds none."""
        run = cls(Path(path))
        if not run.experiment_file.exists():
            raise UserError(
                f"{path}: not an automl run directory (no experiment.yaml); give the folder of a search"
            )
        return run

    def read_experiment(self) -> dict[str, Any]:
        with self.experiment_file.open(encoding="utf-8") as handle:
            data = yaml.safe_load(handle)
        if not isinstance(data, dict):
            raise UserError(f"{self.experiment_file}: not a mapping; the run directory is damaged")
        return data

    def write_experiment(self, data: dict[str, Any]) -> None:
        tmp = self.experiment_file.with_suffix(".yaml.tmp")
        tmp.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
        tmp.replace(self.experiment_file)

    def attach_log(self) -> logging.Handler:
        """Send automl's and Optuna's log records to ``automl.log``; returns the handler to detach later."""
        handler = logging.FileHandler(self.log_file, encoding="utf-8")
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        for name in ("automl", "optuna"):
            logger = logging.getLogger(name)
            logger.addHandler(handler)
            if logger.level == logging.NOTSET or logger.level > logging.INFO:
                logger.setLevel(logging.INFO)
        return handler

    @staticmethod
    def detach_log(handler: logging.Handler) -> None:
        for name in ("automl", "optuna"):
            logging.getLogger(name).removeHandler(handler)
        handler.close()


def resolve_run_path(*, name: str | None, run_dir: str | Path | None, default_name: str) -> Path:
    """``run_dir`` if given, else ``runs/<name or default_name>``."""
    if run_dir is not None and name is not None:
        raise UserError("give either --name or --run-dir, not both")
    if run_dir is not None:
        return Path(run_dir)
    chosen = name or default_name
    if "/" in chosen or chosen in ("", ".", ".."):
        raise UserError(f"run name {chosen!r} must be a plain folder name; use --run-dir for a path")
    return DEFAULT_ROOT / chosen


def prepare_run_dir(path: Path, *, resume: bool, overwrite: bool) -> RunDir:
    """Create (or reopen, or wipe) the run directory as the flags ask.

    Raises:
        UserError: the run exists and neither flag was given (the message names both fixes), ``--resume``
            with nothing to resume, both flags at once, or a folder that cannot be written.
    """
    if resume and overwrite:
        raise UserError("--resume and --overwrite exclude each other; pick one")
    run = RunDir(Path(path))
    if run.is_run:
        if overwrite:
            shutil.rmtree(run.path)
        elif not resume:
            raise UserError(
                f"run {run.path} already exists: add --resume to continue it, or --overwrite to start afresh "
                "(deletes its trials)"
            )
    elif resume:
        raise UserError(f"nothing to resume in {run.path}: run without --resume to start a new search")
    try:
        run.path.mkdir(parents=True, exist_ok=True)
        probe = run.path / ".write-test"
        probe.write_text("")
        probe.unlink()
    except OSError as exc:
        raise UserError(
            f"cannot write the run directory {run.path} ({exc.strerror}); choose another --run-dir"
        ) from None
    return run


def environment_info() -> dict[str, Any]:
    """Package versions and hardware, written into ``experiment.yaml`` so a result can be reproduced."""
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
