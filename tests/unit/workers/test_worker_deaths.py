"""Workers killed mid-trial say nothing about the space: the failure streak ignores their trials.

Real worker processes under the real supervisor, on both backends (KerasTuner through its chief), with a
stand-in trainer so that a trial takes two seconds and no Keras: five workers are SIGKILLed mid-trial,
four of them in a row in the study, and the search still runs to its trial budget although it stops
after three *config* failures in a row.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import optuna
import pytest
from stub_study import stub_study

from automl.outcomes import FailureKind
from automl.store import BudgetEntry, TrialState, load_records
from automl.workers import Slot, run_study

HERE = Path(__file__).resolve().parent
TRIALS = 6


def _search(tmp_path: Path, backend_name: str, trials: int = TRIALS) -> tuple[threading.Thread, dict, str]:
    """A search of ``trials`` on two worker slots with the stand-in trainer, started on a thread."""
    record = BudgetEntry(trials=trials, timeout=240, max_consecutive_failures=3)
    prepared, launch, backend = stub_study(tmp_path, backend_name, record, epochs=4)
    slots = [Slot(index=i, threads=1) for i in range(2)]
    outcome: dict = {}

    def search() -> None:
        try:
            run_study(
                launch, backend, prepared=prepared, slots=slots, seed=0, started=time.time(),
                heartbeat_interval=1, trainer="stub_trainers:two_second_trials",
            )  # fmt: skip
        except BaseException as exc:  # the test reads it
            outcome["error"] = exc

    thread = threading.Thread(target=search, daemon=True)
    thread.start()
    return thread, outcome, prepared.url


def _running(study: optuna.Study, slot: int) -> optuna.trial.FrozenTrial | None:
    for trial in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,)):
        if trial.user_attrs.get("device") == f"cpu slot {slot}" and "worker" in trial.user_attrs:
            return trial
    return None


def _finished_on(study: optuna.Study, slot: int) -> int:
    done = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
    return sum(t.user_attrs.get("device") == f"cpu slot {slot}" for t in done)


def _kill_on(study: optuna.Study, slot: int, killed: list[int], ends: float) -> None:
    """SIGKILL the worker of ``slot`` once it is a second into a trial not killed before."""
    while time.monotonic() < ends:
        trial = _running(study, slot)
        started = None if trial is None else trial.datetime_start
        fresh = trial is not None and trial.number not in killed and started is not None
        if fresh and time.time() - started.timestamp() > 1.0:
            worker = str(trial.user_attrs["worker"])
            os.kill(int(worker.rsplit(":", 1)[1]), signal.SIGKILL)
            # The trial read a moment ago may have ended before the kill (a loaded machine reads slowly):
            # what died is what that worker still runs.
            lost = [t.number for t in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,))
                    if t.user_attrs.get("worker") == worker]  # fmt: skip
            if lost:
                killed.extend(lost)
                return
        time.sleep(0.1)
    raise AssertionError(f"no trial of slot {slot} to kill in time (killed so far: {killed})")


# KerasTuner's five kills take 45 s on 2 cores; its worker killed mid-trial stays in the default suite
# (tests/integration/test_workers.py), and the kills' bookkeeping is the supervisor's, shared by both.
@pytest.mark.parametrize("backend_name", ["optuna", pytest.param("keras_tuner", marks=pytest.mark.slow)])
def test_five_workers_killed_mid_trial_leave_the_search_running_to_its_budget(
    tmp_path, monkeypatch, backend_name
):
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")]))
    thread, outcome, url = _search(tmp_path, backend_name)
    ends = time.monotonic() + 200
    while time.monotonic() < ends:  # the study exists once the workers run
        try:
            study = optuna.load_study(study_name=optuna.get_all_study_names(url)[0], storage=url)
            break
        except Exception:
            time.sleep(0.2)
    killed: list[int] = []
    # Four deaths, two on each slot, with no finished trial in between: four failures in a row.
    for slot in (0, 1, 0, 1):
        _kill_on(study, slot, killed, ends)
    # A finished trial on each slot (the supervisor's own guard stops a slot whose workers die three
    # times in a row), then the fifth death.
    while time.monotonic() < ends and not (_finished_on(study, 0) and _finished_on(study, 1)):
        time.sleep(0.2)
    _kill_on(study, 0, killed, ends)
    thread.join(timeout=max(ends - time.monotonic(), 1))
    assert not thread.is_alive(), "the search did not end"
    assert "error" not in outcome, outcome.get("error")
    records = {r.number: r for r in load_records(url, study.study_name)}
    assert len(killed) == 5
    assert not [n for n, r in records.items() if r.state is TrialState.RUNNING]  # none left behind
    assert sum(r.state.finished for r in records.values()) >= TRIALS
    for number in killed:
        assert records[number].state is TrialState.FAIL
        kind = records[number].failure_kind
        if backend_name == "keras_tuner":  # the supervisor saw the death and recorded it
            assert kind is FailureKind.WORKER_DIED, records[number]
        else:  # the silent heartbeat, or the replacement worker finding the dead process's trial
            assert kind in (FailureKind.STALE_HEARTBEAT, FailureKind.INTERRUPTED), records[number]
        assert not kind.counts_toward_streak
