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
"""

from __future__ import annotations

import signal
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import Any

__all__ = ["InterruptGuard", "check", "requested", "watch_fit"]

_state = {"requested": False, "depth": 0}
_previous_handler: Any = None
_fitting: weakref.WeakSet[Any] = weakref.WeakSet()


def _handle(signum: int, frame: Any) -> None:
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
    restores the previous handler. A request nobody acted on (it landed after the last check) is raised
    when the outermost guard exits, so a Ctrl-C is never lost.
    """

    def __enter__(self) -> InterruptGuard:
        global _previous_handler
        if threading.current_thread() is not threading.main_thread():
            return self
        if _state["depth"] == 0:
            if signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
                return self  # ignored (background job) or handled by someone else: leave it alone
            _state["requested"] = False
            _previous_handler = signal.signal(signal.SIGINT, _handle)
        _state["depth"] += 1
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        global _previous_handler
        if _state["depth"] == 0 or threading.current_thread() is not threading.main_thread():
            return
        _state["depth"] -= 1
        if _state["depth"] > 0:
            return
        signal.signal(signal.SIGINT, _previous_handler)
        _previous_handler = None
        unanswered = _state["requested"] and exc_type is None
        _state["requested"] = False
        if unanswered:
            raise KeyboardInterrupt
