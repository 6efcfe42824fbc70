"""A KerasTuner trial's heartbeat: beats while the trial runs and none after; a trial silent past the
grace period is failed as abandoned, of kind ``stale_heartbeat``, and not retried in the study."""

from __future__ import annotations

import threading
import time

import optuna
import pytest

from automl.backends.keras_tuner._heartbeat import TrialHeartbeat
from automl.outcomes import FailureKind
from automl.store import TrialState, fail_silent_trials, failure_kind_of, open_storage, reserve_trial


class _Beats:
    """A storage that only counts heartbeats (Optuna's interval is whole seconds; this one is short)."""

    def __init__(self, interval: float | None) -> None:
        self.interval = interval
        self.beats: list[tuple[int, float]] = []
        self.lock = threading.Lock()

    def get_heartbeat_interval(self) -> float | None:
        return self.interval

    def record_heartbeat(self, trial_id: int) -> None:
        with self.lock:
            self.beats.append((trial_id, time.monotonic()))


def test_beats_every_interval_while_running_and_never_after_stop():
    storage = _Beats(0.05)
    heartbeat = TrialHeartbeat(storage, 7)
    heartbeat.start()
    time.sleep(0.3)
    heartbeat.stop()
    stopped = time.monotonic()
    count = len(storage.beats)
    time.sleep(0.2)
    assert len(storage.beats) == count  # none after stop
    assert count >= 3 and {trial for trial, _ in storage.beats} == {7}
    assert storage.beats[0][1] < stopped - 0.2  # the first at once, not an interval late
    assert all(at <= stopped for _, at in storage.beats)
    assert not [t for t in threading.enumerate() if t.name == "automl-heartbeat-7"]


def test_a_storage_without_heartbeats_gets_no_thread():
    storage = _Beats(None)
    with TrialHeartbeat(storage, 3) as heartbeat:
        assert heartbeat.interval is None
        assert not [t for t in threading.enumerate() if t.name == "automl-heartbeat-3"]
    assert storage.beats == []


def test_a_failed_beat_is_logged_and_the_next_tries_again(caplog):
    storage = _Beats(0.05)
    calls = []

    def flaky(trial_id: int) -> None:
        calls.append(trial_id)
        if len(calls) <= 2:
            raise RuntimeError("database is locked")

    storage.record_heartbeat = flaky  # type: ignore[method-assign]
    with TrialHeartbeat(storage, 1):
        time.sleep(0.25)
    assert len(calls) >= 4
    assert [r.message for r in caplog.records].count(
        "could not record the heartbeat of trial id 1: database is locked"
    ) == 1  # once per outage, not once per beat


@pytest.fixture
def study(tmp_path):
    storage = open_storage(f"sqlite:///{tmp_path / 'automl.db'}", heartbeat_interval=1, grace_period=1)
    return optuna.create_study(study_name="s", storage=storage)


def test_a_trial_silent_past_the_grace_period_is_failed_as_abandoned_without_a_retry(study):
    beating, _ = reserve_trial(study, {}, {}, {"keras_tuner_trial_id": "00"})
    silent, silent_number = reserve_trial(study, {}, {}, {"keras_tuner_trial_id": "01"})
    never, _ = reserve_trial(study, {}, {}, {"keras_tuner_trial_id": "02"})  # no heartbeat: not judged
    with TrialHeartbeat(study._storage, beating):
        with TrialHeartbeat(study._storage, silent):
            time.sleep(0.2)
        ends = time.monotonic() + 10
        failed: list[int] = []
        while not failed and time.monotonic() < ends:
            time.sleep(0.5)
            failed = fail_silent_trials(study, "abandoned: its machine went silent")
    assert failed == [silent_number]
    trials = {t._trial_id: t for t in study.get_trials(deepcopy=False)}
    assert len(trials) == 3  # no retry enqueued: KerasTuner proposes from its oracle
    assert trials[beating].state is optuna.trial.TrialState.RUNNING
    assert trials[never].state is optuna.trial.TrialState.RUNNING
    attrs = trials[silent].user_attrs
    assert trials[silent].state is optuna.trial.TrialState.FAIL
    assert failure_kind_of(TrialState.FAIL, attrs) is FailureKind.STALE_HEARTBEAT
    assert (
        attrs["failure"] == "stale_heartbeat: abandoned: its machine went silent (no heartbeat for over 1 s)"
    )
    assert not FailureKind.STALE_HEARTBEAT.counts_toward_streak
    assert fail_silent_trials(study, "again") == []  # already failed


def test_no_heartbeats_no_silent_trials(tmp_path):
    storage = open_storage(f"sqlite:///{tmp_path / 'automl.db'}", heartbeat_interval=None)
    study = optuna.create_study(study_name="s", storage=storage)
    reserve_trial(study, {}, {})
    assert fail_silent_trials(study, "abandoned") == []
