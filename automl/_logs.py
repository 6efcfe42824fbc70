"""Logging as the caller left it: automl changes Optuna's verbosity only for a while.

A library call that leaves a notebook's Optuna logging at ERROR, or its ``automl`` logger at INFO, is a
surprise the user finds much later; every change here is undone when its ``with`` block ends.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["optuna_verbosity"]


@contextmanager
def optuna_verbosity(level: int) -> Iterator[None]:
    """Optuna's verbosity set to ``level`` inside the block, restored after it."""
    import optuna

    before = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(level)
    try:
        yield
    finally:
        optuna.logging.set_verbosity(before)
