"""Test helpers: Python scripts run as separate processes against one storage (tests/ is on sys.path,
as the folder of the root conftest)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from sqlalchemy.engine import make_url

from automl.store import study_name

#: the study :func:`search_in_process` creates (run ``run``, iris, the ``small`` space, Optuna's random sampler).
IN_PROCESS_STUDY = study_name("run", "iris", "small", "optuna", "random")


def start_script(script: str, *args: str, cwd: Path | None = None) -> subprocess.Popen:
    """``script`` (dedented) in a new Python process with ``args``; its output captured."""
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(script), *args],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_clean(processes: list[subprocess.Popen], url: str) -> list[str]:
    """Each process's stdout, once it exited cleanly; the URL's password (if any) appears in no output."""
    secret = make_url(url).password
    outputs = []
    for process in processes:
        out, err = process.communicate(timeout=240)
        assert process.returncode == 0, err[-3000:]
        if secret:
            assert secret not in out and secret not in err
        outputs.append(out)
    return outputs


def search_in_process(cwd: Path, *, space: str, storage: str, n_trials: int) -> subprocess.Popen:
    """``AutoMLSearch(...).fit('iris')`` in a new Python process (one device, heartbeats every second, a
    run directory ``run`` under ``cwd``): the first machine of a shared search."""
    return subprocess.Popen(
        [sys.executable, "-c", (
            "from automl import AutoMLSearch; AutoMLSearch("
            f"space={space!r}, storage={storage!r}, n_trials={n_trials}, timeout=240, "
            "devices=1, heartbeat_interval=1, run_dir='run', algorithm='random').fit('iris')"
        )],
        cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
