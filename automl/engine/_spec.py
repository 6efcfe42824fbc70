"""What a process of a search is told when it starts: :class:`WorkerSpec`, and how it tells its end.

The supervisor (:mod:`automl.workers`) starts worker processes and, for a backend with a coordinator, its
chief; each reads one JSON :class:`WorkerSpec` from ``AUTOML_WORKER_SPEC`` (the environment, not the
command line, where ``ps`` would show the storage URL's password) and reads everything else from the
storage. It lives below the backends because a backend's chief process reads it too.

Exit codes: 0 the budget is spent, the deadline passed or the worker is due for recycling; 2 a user
mistake (the message is the last line of its log); 3 the study's failure limit stopped the search; 4 the
backend had nothing left to propose (an exhausted grid); 130 Ctrl-C.
"""

from __future__ import annotations

import ctypes
import importlib
import json
import os
import signal
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from automl.engine._budget import Budget

__all__ = [
    "EXIT_DISK_FULL",
    "EXIT_FATAL",
    "EXIT_INTERRUPTED",
    "EXIT_NOTHING_LEFT",
    "EXIT_STORAGE_UNAVAILABLE",
    "EXIT_USER_ERROR",
    "PARENT_VARIABLE",
    "SPEC_VARIABLE",
    "WorkerSpec",
    "follow_parent",
    "load_trainer",
]

EXIT_USER_ERROR = 2
EXIT_FATAL = 3
#: the backend had nothing left to propose (an exhausted grid): a replacement would end the same way.
EXIT_NOTHING_LEFT = 4
#: the storage or the disk is gone for now (:class:`automl.exceptions.Unavailable`): not a death, the
#: search stops with its finished trials kept.
EXIT_DISK_FULL = 74
EXIT_STORAGE_UNAVAILABLE = 75
EXIT_INTERRUPTED = 130
#: the environment variable holding a process's spec.
SPEC_VARIABLE = "AUTOML_WORKER_SPEC"
#: the environment variable holding the pid of the supervisor that started the process.
PARENT_VARIABLE = "AUTOML_SUPERVISOR_PID"
#: Linux's prctl option that signals a process when its parent dies.
_PR_SET_PDEATHSIG = 1


@dataclass(frozen=True)
class WorkerSpec:
    """What a worker (or chief) is told (the rest comes from the storage).

    ``budget`` is the study's :class:`~automl.engine.Budget` as a mapping; a worker spends what is left of
    it: the study's finished trials count toward ``trials``, and ``deadline`` replaces ``timeout``.
    """

    storage: str
    study: str
    slot: dict[str, Any]
    budget: dict[str, Any] = field(default_factory=dict)
    run_dir: str | None = None
    #: wall-clock time (``time.time()``) at which the whole search ends; a replacement worker gets what
    #: is left, never a fresh timeout.
    deadline: float | None = None
    recycle_after: int | None = None
    heartbeat_interval: int = 60
    grace_period: int | None = None
    #: ISO time the search started: failures in a row count from there, over every worker.
    since: str | None = None
    #: a pickled Dataset for data that came from Python objects (nothing to reload it from).
    dataset_file: str | None = None
    #: ``module:name`` of a stand-in for :func:`automl.train` (the engine's fast test tier), or None
    trainer: str | None = None
    #: the folder of the trials' checkpoints the user gave (``--checkpoint-dir``); None: the process's
    #: ``AUTOML_CHECKPOINT_DIR``, else the run directory's (:func:`automl.engine.checkpoint_folder`)
    checkpoint_dir: str | None = None
    #: which machine's worker this is, for its sampler's seed (``automl.workers._worker.sampler_seed``):
    #: 0 on the machine that started the search, a number of its own on each one that joined it
    #: (``automl worker``)
    machine: int = 0

    @classmethod
    def of(cls, budget: Budget, **fields: Any) -> WorkerSpec:
        return cls(budget=asdict(budget), **fields)

    def budget_left(self, seconds_left: float | None) -> Budget:
        """The study's budget with ``seconds_left`` (from :attr:`deadline`) as its timeout."""
        return Budget(**{**self.budget, "timeout": seconds_left})

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> WorkerSpec:
        return cls(**json.loads(text))


def load_trainer(path: str) -> Any:
    """The trainer a spec names as ``module:name``: a factory called with no arguments."""
    module, _, name = path.partition(":")
    return getattr(importlib.import_module(module), name)()


def follow_parent(watch_seconds: float = 1.0) -> None:
    """Stop this process (SIGTERM to itself: the Ctrl-C path, its running trial recorded as interrupted)
    once the supervisor that started it dies, however it died (kill -9 included): no orphan holds a GPU.

    Linux tells the process through ``prctl(PR_SET_PDEATHSIG)``; the parent may have died before that
    call, so its pid (``AUTOML_SUPERVISOR_PID``) is checked right after. Elsewhere a daemon thread watches
    the parent every ``watch_seconds``. A process started by hand (no variable) is left alone.
    """
    text = os.environ.get(PARENT_VARIABLE, "")
    if not text.isdigit():
        return
    parent = int(text)
    if not _signal_on_parent_death():
        threading.Thread(target=_watch_parent, args=(parent, watch_seconds), daemon=True).start()
    if os.getppid() != parent:
        os.kill(os.getpid(), signal.SIGTERM)


def _signal_on_parent_death() -> bool:
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _watch_parent(parent: int, seconds: float) -> None:
    while os.getppid() == parent:
        time.sleep(seconds)
    os.kill(os.getpid(), signal.SIGTERM)
