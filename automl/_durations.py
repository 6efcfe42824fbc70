"""Durations as people write them: ``90`` (seconds), ``90s``, ``20m``, ``1.5h``.

The one reader of a duration, for the command line's ``--timeout``-like flags, an experiment file's
``budget:`` entries and the grace periods set in the environment alike; each caller names the value in its
own words (a flag, a key, a variable), and the message says how to write one.
"""

from __future__ import annotations

import os
import re

from automl.exceptions import UserError

__all__ = ["duration_from_env", "parse_duration"]

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|sec|m|min|h)?\s*$")
_SECONDS = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600}


def parse_duration(value: str | float, *, name: str, positive: bool = True) -> float:
    """Seconds from ``value``: a number of seconds, or text such as ``90``, ``90s``, ``20m`` or ``1.5h``.

    ``name`` starts every message (``--timeout``, ``budget.timeout``). With ``positive``, zero is refused
    too; without, it is the caller's to check (a duration is never negative).

    Raises:
        UserError: ``name: cannot read '…' as a duration; …``, or a duration that is not positive.
    """
    if isinstance(value, int | float) and not isinstance(value, bool):
        seconds = float(value)
    else:
        match = _DURATION.match(str(value))
        if not match:
            raise UserError(f"{name}: cannot read {value!r} as a duration; write seconds (90) or 20m / 1h")
        seconds = float(match.group(1)) * _SECONDS[match.group(2) or "s"]
    if seconds < 0 or (positive and seconds == 0):
        wanted = "positive" if positive else "zero or more"
        raise UserError(f"{name}: a duration must be {wanted}, but got {value!r}")
    return seconds


def duration_from_env(variable: str, default: float) -> float:
    """Seconds from environment variable ``variable`` (``30``, ``2m``; zero allowed), ``default`` where it is
    unset or empty.

    Raises:
        UserError: ``VARIABLE: cannot read '…' as a duration; …``.
    """
    text = os.environ.get(variable, "").strip()
    return default if not text else parse_duration(text, name=variable, positive=False)
