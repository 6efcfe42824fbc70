"""Logging as the caller left it: automl changes Optuna's verbosity and logger levels only for a while.

A library call that leaves a notebook's Optuna logging at ERROR, or its ``automl`` logger at INFO, is a
surprise the user finds much later; every change here is undone when its ``with`` block ends.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["logger_levels", "optuna_verbosity"]


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


@contextmanager
def logger_levels(names: tuple[str, ...], at_most: int) -> Iterator[None]:
    """Loggers ``names`` pass records of ``at_most`` and above inside the block; levels restored after."""
    loggers = [logging.getLogger(name) for name in names]
    before = [logger.level for logger in loggers]
    for logger in loggers:
        if logger.level == logging.NOTSET or logger.level > at_most:
            logger.setLevel(at_most)
    try:
        yield
    finally:
        for logger, level in zip(loggers, before, strict=True):
            logger.setLevel(level)
