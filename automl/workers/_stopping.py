"""Stopping processes: one grace period for every stop (Ctrl-C, SIGTERM, SIGHUP, the deadline), then
SIGKILL; a second signal kills at once. Nothing a supervisor started outlives it."""

from __future__ import annotations

import contextlib
import subprocess
import time

from automl._durations import duration_from_env

__all__ = ["STOP_GRACE_SECONDS", "STOP_GRACE_VARIABLE", "stop_grace", "wait_or_kill"]

#: seconds a process asked to stop (a worker, the chief) is given before it is killed, on Ctrl-C, SIGTERM,
#: SIGHUP and past the deadline; ``AUTOML_STOP_GRACE`` sets another. A cluster's own grace period (e.g.
#: Kubernetes' terminationGracePeriodSeconds) must exceed it, or its SIGKILL comes first.
STOP_GRACE_SECONDS = 30.0
STOP_GRACE_VARIABLE = "AUTOML_STOP_GRACE"


def stop_grace() -> float:
    """The stop grace period in seconds (see :data:`STOP_GRACE_SECONDS`)."""
    return duration_from_env(STOP_GRACE_VARIABLE, STOP_GRACE_SECONDS)


def wait_or_kill(processes: list[subprocess.Popen[bytes]], grace: float) -> None:
    """Wait up to ``grace`` seconds for ``processes`` to end; SIGKILL the rest. A second Ctrl-C or signal
    while waiting kills them at once (and is raised): nothing outlives the supervisor."""
    ends = time.monotonic() + grace
    try:
        for process in processes:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=max(ends - time.monotonic(), 0.1))
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()
