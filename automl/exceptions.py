"""The error tree of automl, organised by what happens next.

* :class:`UserError` (also a :class:`ValueError`): a mistake in what the user gave us (a file, a flag, a
  dataset). Raised before any work starts; the CLI prints its one-line message and exits with code 2.
* :class:`TrialFailed`: one trial could not finish (diverged, out of memory, timed out). The trial is
  recorded as failed with :attr:`TrialFailed.reason` and the search goes on.
* :class:`FatalError`: the search cannot go on (too many failures in a row, workers that keep dying).
  Every finished trial is kept; the message says how to resume.
* :class:`Unavailable`: something outside automl is gone for now: the storage's server past its grace
  period (:class:`StorageUnavailable`, exit status 75), the run directory's disk (:class:`DiskFull`, exit
  status 74). The work stops at once with every finished trial kept; once it is back, the same command
  with ``--resume`` goes on.

A message that names an argument its caller can set ("`n_trials` must be at least 1", "or choose
`algorithm='tpe'`") carries it as data: a :class:`Argument` in a field of the message's template. ``str()``
names it as the Python caller wrote it, in backticks; :meth:`AutoMLError.render` lets another caller word it
its own way (the command line: ``--trials``, ``--algorithm tpe``)::

    UserError("{n_trials} must be at least 1, but got {got}", n_trials=Argument("n_trials"), got=0)

A message without fields is kept as written, braces included.
"""

from __future__ import annotations

import difflib
import string
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Final, Self

__all__ = [
    "NO_VALUE",
    "Argument",
    "AutoMLError",
    "AutoMLWarning",
    "ConfigError",
    "DatasetError",
    "DiskFull",
    "FatalError",
    "MissingDependency",
    "SpaceError",
    "StorageUnavailable",
    "TrialFailed",
    "Unavailable",
    "UserError",
    "did_you_mean",
]


class _NoValue:
    def __repr__(self) -> str:
        return "NO_VALUE"


#: the value of an :class:`Argument` named alone (`` `resume` ``), not as ``name=value``.
NO_VALUE: Final = _NoValue()


@dataclass(frozen=True)
class Argument:
    """An argument a message names: ``name`` alone, or ``name=value`` where the advice is to set it so.

    ``literal``: the Python wording shows ``value`` as a literal (``algorithm='tpe'``); false, as text
    (``warm_start=portfolio``).
    """

    name: str
    value: Any = NO_VALUE
    literal: bool = True

    def __str__(self) -> str:
        """As a Python caller writes it, in backticks: `` `n_trials` ``, `` `algorithm='tpe'` ``."""
        if self.value is NO_VALUE:
            return f"`{self.name}`"
        return f"`{self.name}={self.value!r}`" if self.literal else f"`{self.name}={self.value}`"


#: how a caller words an argument (e.g. the command line: its flag), or None for the Python wording.
Wording = Callable[[Argument], "str | None"]


class AutoMLError(Exception):
    """Root of every error raised on purpose by automl.

    ``message`` is kept as written, unless ``fields`` are given: then it is a :meth:`str.format` template
    (literal braces doubled) over them, and the fields holding an :class:`Argument` are the arguments it
    names (:attr:`arguments`).
    """

    def __init__(self, message: str = "", /, **fields: Any) -> None:
        self.template = message
        self.fields = fields
        super().__init__(self.render() if fields else message)

    @property
    def arguments(self) -> tuple[Argument, ...]:
        """The arguments the message names, in the order of its fields."""
        return tuple(v for v in self.fields.values() if isinstance(v, Argument))

    def render(self, wording: Wording | None = None) -> str:
        """The message with each argument as ``wording`` writes it (where it returns None, and without
        ``wording``: as the Python caller writes it, which is ``str(self)``)."""
        if not self.fields:
            return self.template
        values = {
            key: _word(value, wording) if isinstance(value, Argument) else value
            for key, value in self.fields.items()
        }
        return self.template.format_map(values)

    @classmethod
    def of(cls, *parts: str | AutoMLError) -> Self:
        """An error saying ``parts`` in a row: text as written, errors' messages naming their arguments
        (each error's fields renamed apart from the others')."""
        if not any(isinstance(part, AutoMLError) and part.fields for part in parts):
            return cls("".join(str(part) for part in parts))
        template: list[str] = []
        fields: dict[str, Any] = {}
        for i, part in enumerate(parts):
            if not isinstance(part, AutoMLError) or not part.fields:
                template.append(_literal(str(part)))
                continue
            for text, field, spec, conversion in string.Formatter().parse(part.template):
                template.append(_literal(text))
                if field is not None:
                    head, rest = _split_field(field)
                    fields[f"part{i}_{head}"] = part.fields[head]
                    conversion = f"!{conversion}" if conversion else ""
                    spec = f":{spec}" if spec else ""
                    template.append(f"{{part{i}_{head}{rest}{conversion}{spec}}}")
        return cls("".join(template), **fields)


def _literal(text: str) -> str:
    return text.replace("{", "{{").replace("}", "}}")


def _split_field(field: str) -> tuple[str, str]:
    """``"x.attr"`` → ``("x", ".attr")``, ``"x[0]"`` → ``("x", "[0]")``."""
    cut = min((i for i in (field.find("."), field.find("[")) if i >= 0), default=len(field))
    return field[:cut], field[cut:]


def _word(argument: Argument, wording: Wording | None) -> str:
    text = None if wording is None else wording(argument)
    return str(argument) if text is None else text


class UserError(AutoMLError, ValueError):
    """Something the user gave is wrong; the message names where, and the fix."""

    def prefixed(self, prefix: str, suffix: str = "") -> UserError:
        """A UserError saying ``prefix`` (e.g. where in a file) before this message (and ``suffix`` after),
        naming the same arguments."""
        return UserError.of(prefix, self, suffix)


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


class Unavailable(AutoMLError):
    """Something the work needs from outside is gone for now; every finished trial is kept.

    ``exit_status`` is the command line's (and a worker process's) exit status, from ``sysexits.h``: a
    scheduler can tell "try again later" from a user's mistake (2) or a broken search (1, 3).
    """

    exit_status = 75


class StorageUnavailable(Unavailable):
    """The storage stayed unreachable for longer than its grace period (``AUTOML_STORAGE_GRACE``).

    Exit status 75 (``EX_TEMPFAIL``): the same command, once the server is back, goes on.
    """

    exit_status = 75


class DiskFull(Unavailable):
    """A write found no space left (or the user's quota spent) on the device of the named directory.

    Exit status 74 (``EX_IOERR``): someone must free space before the same command with ``--resume``
    goes on, so a scheduler should not simply retry.
    """

    exit_status = 74


def did_you_mean(word: str, options: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for the closest of ``options`` to a mistyped ``word``, or an empty string."""
    close = difflib.get_close_matches(word, list(options), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


class AutoMLWarning(UserWarning):
    """A situation worth the user's attention that does not stop the work."""
