"""Faults, the database: a PostgreSQL server restarted mid-search, and one down for longer than the
storage's grace period. Each test runs its own server (``private_postgres``), never the shared one.

Asserted each time: nothing of the search alive afterwards, no trial RUNNING at the end, every finished
trial kept, trial numbers unique, the budget met (after a resume where the search had to stop).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import optuna
import pytest
from private_postgres import PrivateServer
from processes import IN_PROCESS_STUDY, search_in_process
from small_space import space

from automl.store import process_alive

RUNNING = optuna.trial.TrialState.RUNNING
FINISHED = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)


@pytest.fixture
def server() -> Iterator[PrivateServer]:
    try:
        private = PrivateServer()
    except FileNotFoundError as exc:
        if os.environ.get("CI"):
            pytest.fail(str(exc))
        pytest.skip(str(exc))
    try:
        yield private
    finally:
        private.close()


def _automl(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "automl", *args], cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, env={**os.environ, **(env or {})},
    )  # fmt: skip


def _trials(url: str) -> list[optuna.trial.FrozenTrial]:
    names = optuna.get_all_study_names(url)
    return optuna.load_study(study_name=names[0], storage=url).trials if names else []


def _wait_for(url: str, ready, process: subprocess.Popen, within: float = 240) -> list:
    """The study's trials once ``ready(trials)`` holds (the search must still run)."""
    ends = time.monotonic() + within
    while time.monotonic() < ends and process.poll() is None:
        try:
            trials = _trials(url)
        except Exception:
            trials = []
        if trials and ready(trials):
            return trials
        time.sleep(0.3)
    raise AssertionError(f"not reached in time: {process.communicate(timeout=60)[1][-3000:]}")


def _pid(trial: optuna.trial.FrozenTrial) -> int:
    return int(str(trial.user_attrs.get("worker", ":0")).rsplit(":", 1)[1])


def _check_the_end(url: str, budget: int) -> list[optuna.trial.FrozenTrial]:
    trials = _trials(url)
    left = [
        (t.number, t.datetime_start, t.user_attrs, process_alive(_pid(t)))
        for t in trials
        if t.state == RUNNING
    ]
    assert not left, left  # (number, start, attributes, whether its worker is alive)
    assert sum(t.state in FINISHED for t in trials) >= budget
    assert len({t.number for t in trials}) == len(trials)
    # No failure was taken for the config's: the outage's trials are storage / interrupted / stale ones.
    kinds = {t.user_attrs.get("failure_kind") for t in trials if t.state == optuna.trial.TrialState.FAIL}
    assert kinds <= {"storage", "interrupted", "worker_died", "stale_heartbeat", None}, kinds
    assert not [pid for pid in {_pid(t) for t in trials} - {0} if process_alive(pid)], "a worker outlived it"
    return trials


@pytest.mark.postgres
def test_a_server_restart_mid_search_loses_nothing_on_either_machine(tmp_path, server):
    """A local search (in process) and a second machine's `automl worker` (a supervisor and its worker)
    ride out `pg_ctl restart -m fast` while both have trials running."""
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    # The second machine waits for the study before the search starts (its start-up, TensorFlow's import
    # included, is over by then): started after the study appeared, a loaded CI machine once saw the search
    # finish all its trials before the joined worker had one running.
    name = IN_PROCESS_STUDY
    joined = _automl(
        "worker", "--storage", server.url, "--study", name, "--workers", "1", "--wait", "240", "-q",
        cwd=second,
    )  # fmt: skip
    main = search_in_process(first, space=space(first, epochs=3), storage=server.url, n_trials=12)

    def both_running(trials: list) -> bool:
        running = {_pid(t) for t in trials if t.state == RUNNING}
        return sum(t.state in FINISHED for t in trials) >= 1 and main.pid in running and len(running) >= 2

    before = _wait_for(server.url, both_running, main)
    assert optuna.get_all_study_names(server.url) == [name]
    server.restart()
    _, err = main.communicate(timeout=240)
    assert main.returncode == 0, err[-3000:]
    _, joined_err = joined.communicate(timeout=120)
    assert joined.returncode == 0, joined_err[-3000:]
    trials = _check_the_end(server.url, budget=12)
    kept = {t.number: t.params for t in trials if t.state in FINISHED}
    assert all(kept[t.number] == t.params for t in before if t.state in FINISHED)
    assert "Traceback" not in err + joined_err


@pytest.mark.postgres
# Two worker processes, and (slow tier) the search in the command's own process.
@pytest.mark.parametrize("workers", [pytest.param(1, marks=pytest.mark.slow), 2])
def test_a_server_down_past_the_grace_period_stops_the_search_with_exit_75_and_a_resume_finishes(
    tmp_path, server, workers
):
    """The server stops for longer than the grace period (3 s here): one line naming the storage
    (password masked) and the time waited, exit status 75, no worker left; the server back, `--resume`
    meets the budget."""
    password = str(optuna.storages.RDBStorage(server.url).engine.url.password)
    args = [
        "search", "-d", "iris", "-s", space(tmp_path, epochs=6), "--trials", "6", "--workers", str(workers),
        "--storage", server.url, "--run-dir", str(tmp_path / "run"), "--algorithm", "random", "-q",
    ]  # fmt: skip
    search = _automl(*args, cwd=tmp_path, env={"AUTOML_STORAGE_GRACE": "3"})
    before = _wait_for(server.url, lambda trials: sum(t.state in FINISHED for t in trials) >= 2, search)
    server.stop()
    try:
        _, err = search.communicate(timeout=120)
    finally:
        server.start()
    assert search.returncode == 75, err[-3000:]
    last = err.strip().splitlines()[-1]
    waited = re.search(r"unreachable for (\d+) s", last)
    assert waited and int(waited.group(1)) >= 3, err[-3000:]  # the grace period's wait, said once
    assert "127.0.0.1" in last and "--resume" in last, err[-3000:]
    assert "Traceback" not in err
    assert password not in err  # the resume command masks it too
    assert not [pid for pid in {_pid(t) for t in before} - {0} if process_alive(pid)]

    # The same environment as the search: a trial whose process lost the server before naming itself in it
    # is an orphan once older than this grace period (a CI run once ended with one left RUNNING).
    resumed = _automl(*args, "--resume", cwd=tmp_path, env={"AUTOML_STORAGE_GRACE": "3"})
    _, err = resumed.communicate(timeout=240)
    assert resumed.returncode == 0, err[-3000:]
    trials = _check_the_end(server.url, budget=6)
    kept = {t.number: t.params for t in trials if t.state in FINISHED}
    assert all(kept[t.number] == t.params for t in before if t.state in FINISHED)
