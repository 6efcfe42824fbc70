"""The run directory: where one search or experiment keeps its storage, manifest, log and outputs.

Layout::

    runs/<name>/run.yaml           the run's manifest (:mod:`automl.store._schema`): datasets, spaces,
                                   backend, budget, storage, seed, studies, package versions, hardware;
                                   a copy of the one kept in the storage
    runs/<name>/automl.db          the Optuna storage (SQLite) unless another storage URL is given
    runs/<name>/automl.log         the log of every invocation on this run
    runs/<name>/leaderboard.csv    written after a search
    runs/<name>/keras_tuner/       KerasTuner project folders
    runs/<name>/models/<dataset>/  retrained models

A run written before the manifest existed holds ``experiment.yaml`` (its resolved settings) instead of
``run.yaml``; it is still a run, read through the manifest module.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

from automl._diskspace import disk_full, is_disk_full, writing
from automl.exceptions import Argument, DiskFull, UserError

__all__ = ["RunDir", "prepare_run_dir", "resolve_run_path"]

DEFAULT_ROOT = Path("runs")


@dataclass(frozen=True)
class RunDir:
    path: Path

    @property
    def manifest_file(self) -> Path:
        return self.path / "run.yaml"

    @property
    def legacy_file(self) -> Path:
        """Where a run written before the manifest kept its settings."""
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

    def writing(self) -> contextlib.AbstractContextManager[None]:
        """Where the run's own files are written: a full disk raises :class:`~automl.exceptions.DiskFull`
        naming the run directory (trials kept: the same command with ``resume`` continues)."""
        return writing(self.path)

    @property
    def has_manifest(self) -> bool:
        """``run.yaml``, or the ``experiment.yaml`` automl wrote into an older run (not a user's file)."""
        from automl.store._legacy import is_legacy_run_file

        return self.manifest_file.exists() or is_legacy_run_file(self.legacy_file)

    @property
    def is_run(self) -> bool:
        return self.has_manifest or self.db_file.exists()

    @classmethod
    def open(cls, path: str | Path) -> RunDir:
        """An existing run. Raises UserError when ``path`` holds none."""
        run = cls(Path(path))
        if not run.has_manifest:
            raise UserError(f"{path}: not an automl run directory (no run.yaml); give the folder of a search")
        return run

    def attach_log(self) -> logging.Handler:
        """Send automl's and Optuna's log records to ``automl.log``; returns the handler to detach later.

        The two loggers pass INFO records while attached; :meth:`detach_log` gives them back the levels
        the caller had set, so a search leaves the caller's logging as it found it.
        """
        handler = _RunLogHandler(self.log_file, encoding="utf-8")
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        for name in _LOGGERS:
            logger = logging.getLogger(name)
            handler.levels_before[name] = logger.level
            logger.addHandler(handler)
            if logger.level == logging.NOTSET or logger.level > logging.INFO:
                logger.setLevel(logging.INFO)
        return handler

    @staticmethod
    def detach_log(handler: logging.Handler) -> None:
        for name in _LOGGERS:
            logger = logging.getLogger(name)
            logger.removeHandler(handler)
            if isinstance(handler, _RunLogHandler) and name in handler.levels_before:
                logger.setLevel(handler.levels_before[name])
        handler.close()


_LOGGERS = ("automl", "optuna")


class _RunLogHandler(logging.FileHandler):
    """The run's log file, remembering the logger levels it changed so they can be restored.

    A record that finds the disk full stops the search: the log says so once, as :class:`DiskFull` from
    the logging call of the main thread (another thread's record is dropped, and the main thread's next
    one raises), rather than a traceback on stderr per record; later records are dropped.
    """

    def __init__(self, path: Path, encoding: str) -> None:
        super().__init__(path, encoding=encoding)
        self.levels_before: dict[str, int] = {}
        self.full: DiskFull | None = None
        self.said = False

    def emit(self, record: logging.LogRecord) -> None:
        if self.full is None:
            super().emit(record)
        self._say_full()

    def handleError(self, record: logging.LogRecord) -> None:
        error = sys.exc_info()[1]
        if error is None or not is_disk_full(error):
            super().handleError(record)
            return
        self.full = disk_full(Path(self.baseFilename).parent, error)
        with contextlib.suppress(OSError):  # what is buffered cannot be written either
            self.close()

    def _say_full(self) -> None:
        if self.full is not None and not self.said and threading.current_thread() is threading.main_thread():
            self.said = True
            raise self.full


def resolve_run_path(*, name: str | None, run_dir: str | Path | None, default_name: str) -> Path:
    """``run_dir`` if given, else ``runs/<name or default_name>``."""
    if run_dir is not None and name is not None:
        raise UserError(
            "give either {name} or {run_dir}, not both", name=Argument("name"), run_dir=Argument("run_dir")
        )
    if run_dir is not None:
        return Path(run_dir)
    chosen = name or default_name
    if "/" in chosen or chosen in ("", ".", ".."):
        raise UserError(
            "run name {chosen!r} must be a plain folder name; use {run_dir} for a path",
            chosen=chosen,
            run_dir=Argument("run_dir"),
        )
    return DEFAULT_ROOT / chosen


def prepare_run_dir(path: Path, *, resume: bool, overwrite: bool) -> RunDir:
    """Create (or reopen, or wipe) the run directory as ``resume`` and ``overwrite`` ask.

    Raises:
        UserError: the run exists and neither was given (the message names both fixes), ``resume`` with
            nothing to resume, both at once, or a folder that cannot be written.
    """
    if resume and overwrite:
        raise UserError(
            "{resume} and {overwrite} exclude each other; pick one",
            resume=Argument("resume"),
            overwrite=Argument("overwrite"),
        )
    run = RunDir(Path(path))
    if run.is_run:
        if overwrite:
            shutil.rmtree(run.path)
        elif not resume:
            raise UserError(
                "run {path} already exists: add {resume} to continue it, or {overwrite} to start afresh "
                "(deletes its trials)",
                path=run.path,
                resume=Argument("resume"),
                overwrite=Argument("overwrite"),
            )
    elif resume:
        raise UserError(
            "nothing to resume in {path}: run without {resume} to start a new search",
            path=run.path,
            resume=Argument("resume"),
        )
    try:
        with run.writing():
            run.path.mkdir(parents=True, exist_ok=True)
            probe = run.path / ".write-test"
            probe.write_text("")
            probe.unlink()
    except OSError as exc:
        raise UserError(
            "cannot write the run directory {path} ({problem}); choose another {run_dir}",
            path=run.path,
            problem=exc.strerror,
            run_dir=Argument("run_dir"),
        ) from None
    return run
