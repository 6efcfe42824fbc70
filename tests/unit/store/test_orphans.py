"""Trials left RUNNING in a shared storage: which are orphans, failed and retried on a resume."""

from __future__ import annotations

import os
import socket
import time

import optuna
import pytest

from automl.store import fail_orphaned_trials


@pytest.fixture
def study(tmp_path):
    return optuna.create_study(storage=f"sqlite:///{tmp_path / 'shared.db'}", study_name="shared")


def _running(study: optuna.Study, worker: str | None = None) -> int:
    trial = study.ask({"x": optuna.distributions.FloatDistribution(0, 1)})
    if worker is not None:
        trial.set_user_attr("worker", worker)
    return trial.number


def _states(study: optuna.Study) -> dict[int, str]:
    return {t.number: t.state.name for t in study.get_trials(deepcopy=False)}


def test_an_unclaimed_trial_is_an_orphan_once_older_than_the_storage_grace(study, monkeypatch):
    """A process that lost the storage between creating its trial and naming itself in it left that
    trial RUNNING with no worker: younger than the grace period its process may still write its name;
    older, it is failed as interrupted and its config retried."""
    monkeypatch.setenv("AUTOML_STORAGE_GRACE", "1")
    unclaimed = _running(study)
    assert fail_orphaned_trials(study, local=False, retry=True) == 0
    assert _states(study)[unclaimed] == "RUNNING"
    time.sleep(1.2)
    assert fail_orphaned_trials(study, local=False, retry=True) == 1
    failed = study.trials[unclaimed]
    assert failed.state.name == "FAIL" and failed.user_attrs["failure_kind"] == "interrupted"
    assert failed.user_attrs["failure"].startswith("interrupted: its process ended before it recorded")
    retried = [t for t in study.trials if t.system_attrs.get("failed_trial") == unclaimed]
    assert len(retried) == 1 and retried[0].state.name == "WAITING" and retried[0].params == failed.params


def test_a_trial_whose_process_is_alive_is_left_alone_however_old(study, monkeypatch):
    monkeypatch.setenv("AUTOML_STORAGE_GRACE", "0")
    alive = _running(study, f"{socket.gethostname()}:{os.getpid()}")
    elsewhere = _running(study, "another-machine:12345")  # not ours to judge: its heartbeat says
    assert fail_orphaned_trials(study, local=False, retry=False) == 0
    assert _states(study)[alive] == _states(study)[elsewhere] == "RUNNING"


def test_in_the_runs_own_file_an_unclaimed_trial_is_an_orphan_at_once(study, monkeypatch):
    monkeypatch.setenv("AUTOML_STORAGE_GRACE", "60")
    unclaimed = _running(study)
    assert fail_orphaned_trials(study, local=True, retry=False) == 1
    assert _states(study)[unclaimed] == "FAIL"
