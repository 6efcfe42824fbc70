"""The error tree of automl, organised by what happens next.

* :class:`UserError` (also a :class:`ValueError`): a mistake in what the user gave us (a file, a flag, a
  dataset). Raised before any work starts; the CLI prints its one-line message and exits with code 2.
* :class:`TrialFailed`: one trial could not finish (diverged, out of memory, timed out). The trial is
  recorded as failed with :attr:`TrialFailed.reason` and the search goes on.
* :class:`FatalError`: the search cannot go on (too many failures in a row, storage gone). Every finished
  trial is kept; the message says how to resume.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

__all__ = [
    "AutoMLError",
    "AutoMLWarning",
    "ConfigError",
    "DatasetError",
    "FatalError",
    "MissingDependency",
    "SpaceError",
    "TrialFailed",
    "UserError",
    "did_you_mean",
]


class AutoMLError(Exception):
    """Root of every error raised on purpose by automl."""


class UserError(AutoMLError, ValueError):
    """Something the user gave is wrong; the message names where, and the fix."""


class SpaceError(UserError):
    """A search space (YAML file or Python object) is invalid."""


class ConfigError(UserError):
    """A configuration does not fit its search space (unknown, missing, inactive or out-of-range value)."""


class DatasetError(UserError):
    """A dataset cannot be found, read or split as asked."""


class MissingDependency(UserError, ImportError):
    """An optional dependency is missing; the message names the extra that installs it."""


class TrialFailed(AutoMLError):
    """A trial could not finish; it is recorded as failed and the search continues.

    Args:
        reason: Short machine-readable cause, e.g. ``"nan_loss"``, ``"out_of_memory"``, ``"timeout"``.
        detail: Human-readable explanation.
    """

    def __init__(self, reason: str, detail: str = "") -> None:
        self.reason = reason
        self.detail = detail
        super().__init__(f"{reason}: {detail}" if detail else reason)


class FatalError(AutoMLError):
    """The search cannot continue; every finished trial is kept."""


def did_you_mean(word: str, options: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for the closest of ``options`` to a mistyped ``word``, or an empty string."""
    close = difflib.get_close_matches(word, list(options), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


class AutoMLWarning(UserWarning):
    """A situation worth the user's attention that does not stop the work."""
