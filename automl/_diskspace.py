"""A full disk, told apart from other write errors and said in one line naming the directory.

Every write of a search and its follow-ups (the run directory, its manifest, logs, checkpoints, the report,
leaderboards, retrained models) goes through :func:`writing` at the layer that knows the directory::

    with writing(run.path):
        run.leaderboard_file.write_text(text)

A write that finds no space left (``ENOSPC``) or the user's quota spent (``EDQUOT``), also as SQLite's
"database or disk is full" under SQLAlchemy's and Optuna's wrappers, becomes :class:`DiskFull`; any other
error passes unchanged. No imports beyond the standard library and :mod:`automl.exceptions`.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

from automl.exceptions import Argument, DiskFull

__all__ = ["disk_full", "is_disk_full", "writing"]

_ERRNOS = frozenset({errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)})
#: SQLite's words for SQLITE_FULL (13), as sqlite3 and SQLAlchemy's wrappers of it say them.
_SQLITE_FULL = ("database or disk is full", "sqlite_full")
_SQLITE_FULL_CODE = 13


def is_disk_full(exc: BaseException) -> bool:
    """Whether ``exc``, or an error in its ``__cause__``/``__context__`` chain (or the ``orig`` a SQLAlchemy
    error wraps), says that a disk is full: ``ENOSPC``/``EDQUOT``, or SQLite's SQLITE_FULL."""
    seen: set[int] = set()
    todo: list[BaseException] = [exc]
    while todo:
        error = todo.pop()
        if id(error) in seen:
            continue
        seen.add(id(error))
        if isinstance(error, DiskFull):
            return True
        if isinstance(error, OSError) and (error.errno in _ERRNOS or _says_full(error)):
            return True
        if _sqlite_full(error):
            return True
        for linked in (error.__cause__, error.__context__, getattr(error, "orig", None)):
            if isinstance(linked, BaseException):
                todo.append(linked)
    return False


def _says_full(error: OSError) -> bool:
    """An OSError without the errno whose text has it (h5py's, writing Keras weights, for one)."""
    text = str(error)
    return any(os.strerror(code) in text for code in _ERRNOS)


def _sqlite_full(error: BaseException) -> bool:
    if getattr(error, "sqlite_errorcode", None) == _SQLITE_FULL_CODE:
        return True
    module = type(error).__module__.split(".")[0]
    if module not in ("sqlite3", "sqlalchemy", "optuna"):
        return False
    text = str(error).lower()
    return any(words in text for words in _SQLITE_FULL)


def disk_full(directory: str | Path, exc: BaseException | None = None, *, resume: bool = True) -> DiskFull:
    """The :class:`DiskFull` for a write under ``directory``: one line naming it, the space left on its
    device where that is cheap to learn, and the fix: continue with ``resume`` (a search's writes), or run
    the same command again (a report's, a leaderboard's, a retrain's)."""
    where = Path(directory)
    cause = "the disk quota is spent" if _quota(exc) else "no space left on its disk"
    free = _free(where)
    said = f"cannot write {where}: {cause}" + (f" ({free} free)" if free is not None else "")
    if not resume:
        return DiskFull(f"{said}; free space there (or write elsewhere), then run it again")
    return DiskFull(
        "{said}; free space there (or choose another {run_dir}), then continue with {resume}",
        said=said,
        run_dir=Argument("run_dir"),
        resume=Argument("resume"),
    )


@contextlib.contextmanager
def writing(directory: str | Path, *, resume: bool = True) -> Iterator[None]:
    """Writes under ``directory`` (also as a decorator): a full disk raises :class:`DiskFull` naming it
    (see :func:`disk_full` for ``resume``).

    Other errors pass unchanged; a :class:`DiskFull` raised inside keeps its own (innermost) directory.
    """
    try:
        yield
    except DiskFull:
        raise
    except Exception as exc:
        if not is_disk_full(exc):
            raise
        raise disk_full(directory, exc, resume=resume) from exc


def _quota(exc: BaseException | None) -> bool:
    edquot = getattr(errno, "EDQUOT", None)
    while exc is not None:
        if isinstance(exc, OSError) and edquot is not None and exc.errno == edquot:
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def _free(directory: Path) -> str | None:
    """The free space on ``directory``'s device (or its nearest existing parent's), or None."""
    for path in (directory, *directory.parents):
        try:
            return _size(shutil.disk_usage(path).free)
        except OSError:
            continue
    return None


def _size(count: int) -> str:
    if count < 1024:
        return f"{count} bytes"
    value = count / 1024
    for unit in ("KiB", "MiB", "GiB"):
        if value < 1024:
            return f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TiB"
