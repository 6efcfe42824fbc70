"""Ctrl-C during a search: a request honoured at the next safe point, never an exception at a random line.

Python's default handler raises KeyboardInterrupt wherever the main thread happens to be. Inside a
search that can be the middle of a library's clean-up: a Ctrl-C landing between Optuna starting a
trial's heartbeat thread and stopping it left that (non-daemon) thread running, and the process hung at
exit; one landing in a weak-reference callback of TensorFlow was swallowed ("Exception ignored in …")
and the search went on. So while a search runs, the first Ctrl-C only records the request and asks the
model being fitted to stop after its current step; :func:`check`, called at every epoch end and between
trials, raises KeyboardInterrupt there. A second Ctrl-C raises at once, for a user who will not wait.

Signals are process-wide, so this state is too. A process started with SIGINT ignored (a background
job) keeps ignoring it.

The same holds for SIGTERM (what ``kill``, systemd, Docker, Kubernetes and Slurm send before they kill) and
SIGHUP (a closed terminal): each is a stop request like Ctrl-C, :func:`last_signal` says which one came (the
command line exits with 128 + its number), and a second signal of any of them ends at once. A handler is
installed only where the signal's current one is the default (or :func:`raise_interrupt`, which the command
line installs for the whole command), and only in the main thread; the previous ones are restored after.
"""

from __future__ import annotations

import signal
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import Any

__all__ = [
    "STOP_SIGNALS",
    "InterruptGuard",
    "check",
    "last_signal",
    "raise_interrupt",
    "requested",
    "watch_fit",
]

#: the signals that ask a search to stop: Ctrl-C, a polite kill, a closed terminal.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
_state: dict[str, Any] = {"requested": False, "depth": 0, "signal": signal.SIGINT}
_previous_handlers: dict[int, Any] = {}
_fitting: weakref.WeakSet[Any] = weakref.WeakSet()


def raise_interrupt(signum: int, frame: Any) -> None:
    """A handler that raises KeyboardInterrupt, as Python's own does for SIGINT (the command line installs
    it for SIGTERM and SIGHUP, outside a search too); remembers the signal for :func:`last_signal`."""
    _state["signal"] = signum
    raise KeyboardInterrupt


def _replaceable(signum: int) -> bool:
    current = signal.getsignal(signum)
    return current in (signal.SIG_DFL, signal.default_int_handler, raise_interrupt)


def last_signal() -> int:
    """The signal that asked the last stop (SIGINT unless SIGTERM or SIGHUP did)."""
    return int(_state["signal"])


def _handle(signum: int, frame: Any) -> None:
    _state["signal"] = signum
    if _state["requested"]:
        raise KeyboardInterrupt
    _state["requested"] = True
    for model in list(_fitting):
        # Keras checks this flag after every training step and ends the epoch there.
        model.stop_training = True


def requested() -> bool:
    """Whether Ctrl-C was pressed during the current guarded search."""
    return bool(_state["requested"])


def check() -> None:
    """Raise KeyboardInterrupt if Ctrl-C was pressed: call it only where unwinding is safe."""
    if _state["requested"]:
        raise KeyboardInterrupt


@contextmanager
def watch_fit(model: Any) -> Iterator[None]:
    """While ``model`` is fitted, a Ctrl-C request also ends its current epoch early."""
    _fitting.add(model)
    try:
        yield
    finally:
        _fitting.discard(model)


class InterruptGuard:
    """``with InterruptGuard():`` turns Ctrl-C into a request for the duration of a search (see module doc).

    Guards nest (an experiment guards all of its studies, each study guards itself); the outermost one
    restores the previous handlers. A request nobody acted on (it landed after the last check) is raised
    when the outermost guard exits, so a Ctrl-C is never lost.
    """

    def __enter__(self) -> InterruptGuard:
        if threading.current_thread() is not threading.main_thread():
            return self
        if _state["depth"] == 0:
            # A signal ignored (SIGINT in a background job) or handled by someone else is left alone.
            mine = [signum for signum in STOP_SIGNALS if _replaceable(signum)]
            if not mine:
                return self
            _state["requested"] = False
            _state["signal"] = signal.SIGINT
            for signum in mine:
                _previous_handlers[signum] = signal.signal(signum, _handle)
        _state["depth"] += 1
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if _state["depth"] == 0 or threading.current_thread() is not threading.main_thread():
            return
        _state["depth"] -= 1
        if _state["depth"] > 0:
            return
        for signum, previous in _previous_handlers.items():
            signal.signal(signum, previous)
        _previous_handlers.clear()
        unanswered = _state["requested"] and exc_type is None
        _state["requested"] = False
        if unanswered:
            raise KeyboardInterrupt
