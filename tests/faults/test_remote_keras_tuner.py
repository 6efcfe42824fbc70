"""Faults, a lost remote KerasTuner machine: its running trial is ended once its heartbeat lapses.

A search with the KerasTuner backend runs one worker here beside its chief; a second "machine" joins the
chief as ``automl worker`` does (its own supervisor and worker, under another host name, so nothing here
may judge its processes alive or dead). That machine then vanishes whole: its supervisor and worker are
frozen at once and killed, so no supervisor sees a death and nobody records the trial. Only its silence
tells: the chief fails the trial as abandoned (``stale_heartbeat``) within the grace period and a poll, ends
it in its oracle, and the search runs on to its trial budget.

Real processes, real SQLite storage, the stand-in trainer (two-second trials here, endless ones there).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import optuna
from stub_study import stub_study

from automl.outcomes import FailureKind
from automl.store import BudgetEntry, TrialState, load_records
from automl.workers import Slot, run_study
from automl.workers._chief import free_port

HERE = Path(__file__).resolve().parent
UNIT_WORKERS = HERE.parent / "unit" / "workers"
TRIALS = 7  # the local worker still has trials to run once the silent one is ended (~3 done by then)
HEARTBEAT = 1
GRACE = 4 * HEARTBEAT  # the storage's default: four intervals
REMOTE_HOST = "remote-machine"

# The other machine: its processes report another host name (as trial workers and tuner ids), and train
# trials that never end by themselves.
_SITE = """
import os
import socket

if os.environ.get("AUTOML_TEST_HOSTNAME"):
    socket.gethostname = lambda: os.environ["AUTOML_TEST_HOSTNAME"]
"""
_TRAINERS = """
from automl.testing import StubTrainer


def endless_trials():
    return StubTrainer(seconds_per_epoch=60.0, default_epochs=60)
"""
# ``automl worker --storage URL --study NAME --oracle HOST:PORT`` on that machine, with the stand-in trainer.
_JOIN = """
import sys
from pathlib import Path

import optuna

from automl.engine import Budget
from automl.store import load_study_info, open_storage
from automl.workers import Chief, Slot, Supervisor

url, name, port, logs, trials = sys.argv[1:]
storage = open_storage(url, heartbeat_interval=1)
study = optuna.load_study(study_name=name, storage=storage)
Supervisor(
    study=study, info=load_study_info(storage, name), url=url, slots=[Slot(index=0, threads=1)],
    budget=Budget(trials=int(trials), timeout=120), run_dir=None, log_dir=Path(logs), heartbeat_interval=1,
    chief=Chief("automl.backends.keras_tuner._chief", connect="127.0.0.1", port=int(port), start=False),
    trainer="remote_trainers:endless_trials",
).run()
"""


def _search(tmp_path: Path, port: int) -> tuple[threading.Thread, dict, str, str]:
    """A KerasTuner search of ``TRIALS`` on one worker slot here, its chief listening on ``port``."""
    record = BudgetEntry(trials=TRIALS, timeout=120, max_consecutive_failures=3)
    prepared, launch, backend = stub_study(
        tmp_path, "keras_tuner", record, epochs=4, heartbeat_interval=HEARTBEAT
    )
    outcome: dict = {}

    def search() -> None:
        try:
            run_study(
                launch, backend, prepared=prepared, slots=[Slot(index=0, threads=1)], seed=0,
                started=time.time(), heartbeat_interval=HEARTBEAT, oracle_port=port, recycle_after=None,
                trainer="stub_trainers:two_second_trials",
            )  # fmt: skip
        except BaseException as exc:  # the test reads it
            outcome["error"] = exc

    thread = threading.Thread(target=search, daemon=True)
    thread.start()
    return thread, outcome, prepared.url, launch.name


def _join(tmp_path: Path, url: str, study: str, port: int) -> subprocess.Popen:
    """The other machine's ``automl worker``, joining the chief on ``port``."""
    site = tmp_path / "remote"
    site.mkdir()
    (site / "sitecustomize.py").write_text(textwrap.dedent(_SITE))
    (site / "remote_trainers.py").write_text(textwrap.dedent(_TRAINERS))
    env = {
        **os.environ,
        "AUTOML_TEST_HOSTNAME": REMOTE_HOST,
        "PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")]),
    }
    logs = tmp_path / "remote_logs"
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(_JOIN), url, study, str(port), str(logs), str(TRIALS)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=(tmp_path / "remote.err").open("w"),
        start_new_session=True,
    )


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError):
            if int(stat.read_text().rpartition(")")[2].split()[1]) == pid:
                found.append(int(stat.parent.name))
    return found


def _vanish(supervisor: subprocess.Popen) -> None:
    """The machine is gone at once: its supervisor frozen first (it starts nothing more and sees no death),
    then its workers (each in its own session, so a process group would miss them), then all killed."""
    os.kill(supervisor.pid, signal.SIGSTOP)
    frozen = [supervisor.pid]
    for pid in _children(supervisor.pid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGSTOP)
            frozen.append(pid)
    for pid in frozen:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    supervisor.wait(timeout=10)


def _remote_trial(study: optuna.Study) -> optuna.trial.FrozenTrial | None:
    for trial in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,)):
        if str(trial.user_attrs.get("worker", "")).startswith(f"{REMOTE_HOST}:"):
            return trial
    return None


def test_a_vanished_remote_machines_trial_is_ended_once_its_heartbeat_lapses(tmp_path, monkeypatch):
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(UNIT_WORKERS), os.environ.get("PYTHONPATH", "")]))
    port = free_port("127.0.0.1")
    thread, outcome, url, name = _search(tmp_path, port)
    remote = _join(tmp_path, url, name, port)
    try:
        study = optuna.load_study(study_name=name, storage=url)
        ends = time.monotonic() + 90
        trial = None
        while time.monotonic() < ends and remote.poll() is None:
            trial = _remote_trial(study)
            if trial is not None and time.time() - trial.datetime_start.timestamp() > 1.5 * HEARTBEAT:
                break  # mid-trial, its heartbeat recorded
            time.sleep(0.1)
        assert trial is not None and remote.poll() is None, (tmp_path / "remote.err").read_text()[-3000:]
        assert thread.is_alive(), "the search ended before the other machine took a trial"
        _vanish(remote)
        killed = time.monotonic()
        done_then = len(study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,)))
        while time.monotonic() < ends:
            state = study._storage.get_trial(trial._trial_id).state
            if state is not optuna.trial.TrialState.RUNNING:
                break
            time.sleep(0.1)
        took = time.monotonic() - killed
        done = len(study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,)))
        print(
            f"trial ended {took:.1f} s after the kill; trials done then {done_then}, now {done} of {TRIALS}"
        )
        assert took < GRACE + 4, f"the chief took {took:.1f} s to end the silent trial"
        thread.join(timeout=max(ends - time.monotonic(), 1))
    finally:
        if remote.poll() is None:
            os.killpg(remote.pid, signal.SIGKILL)
            remote.wait()
    assert not thread.is_alive(), "the search did not end"
    assert "error" not in outcome, outcome.get("error")
    records = load_records(url, name)
    by_number = {r.number: r for r in records}
    assert len(by_number) == len(records)  # trial numbers unique
    assert not [r.number for r in records if r.state is TrialState.RUNNING]
    assert sum(r.state is TrialState.COMPLETE for r in records) == TRIALS  # every finished trial kept
    ended = by_number[trial.number]
    assert ended.state is TrialState.FAIL and ended.failure_kind is FailureKind.STALE_HEARTBEAT
    assert ended.failure == (
        f"stale_heartbeat: abandoned: its machine went silent (no heartbeat for over {GRACE} s)"
    )
    assert [r.number for r in records if r.state is TrialState.FAIL] == [trial.number]
    chief_log = (tmp_path / "run" / "workers" / "chief.log").read_text()
    assert f"trial {trial.number} went silent (its machine is gone): recorded as failed" in chief_log
    kt_id = trial.user_attrs["keras_tuner_trial_id"]
    assert f"(KerasTuner {kt_id}) ended as failed: stale_heartbeat: abandoned" in chief_log
