"""The storage's retries: which errors are a lost connection, the grace period, and the writes that are
read back before they are repeated (an attempt that committed just before its connection dropped)."""

from __future__ import annotations

import time
import warnings

import optuna
import pytest
import sqlalchemy.exc
from optuna.storages import RDBStorage

from automl.exceptions import StorageUnavailable, UserError
from automl.store import open_storage
from automl.store._retry import CREATE_TOKEN, connection_lost, patiently, storage_grace


class _Driver(Exception):
    """A DBAPI error of a server's driver (its module is not sqlite3)."""


def _lost() -> sqlalchemy.exc.OperationalError:
    return sqlalchemy.exc.OperationalError(
        "SELECT 1", {}, _Driver("server closed the connection unexpectedly")
    )


def _wrapped(exc: BaseException) -> optuna.exceptions.StorageInternalError:
    """As Optuna raises it: its generic message, the SQLAlchemy error as the cause."""
    try:
        raise optuna.exceptions.StorageInternalError("An exception is raised during the commit.") from exc
    except optuna.exceptions.StorageInternalError as wrapper:
        return wrapper


def test_a_lost_connection_is_told_by_its_cause_not_optunas_message():
    import sqlite3

    assert connection_lost(_wrapped(_lost()))
    assert connection_lost(sqlalchemy.exc.PendingRollbackError("roll back first"))
    assert connection_lost(sqlalchemy.exc.TimeoutError("pool exhausted"))
    # The same wrapper over what is not an outage: SQLite's own errors, a constraint, a plain bug.
    locked = sqlalchemy.exc.OperationalError("x", {}, sqlite3.OperationalError("database is locked"))
    assert not connection_lost(_wrapped(locked))
    assert not connection_lost(_wrapped(sqlalchemy.exc.IntegrityError("x", {}, _Driver("duplicate key"))))
    assert not connection_lost(_wrapped(ValueError("exceeding max length")))
    assert not connection_lost(StorageUnavailable("given up already"))


def test_the_grace_period_is_one_setting(monkeypatch):
    monkeypatch.delenv("AUTOML_STORAGE_GRACE", raising=False)
    assert storage_grace() == 60
    monkeypatch.setenv("AUTOML_STORAGE_GRACE", "2.5")
    assert storage_grace() == 2.5
    monkeypatch.setenv("AUTOML_STORAGE_GRACE", "5m")
    assert storage_grace() == 300
    monkeypatch.setenv("AUTOML_STORAGE_GRACE", "a while")
    with pytest.raises(UserError, match="AUTOML_STORAGE_GRACE: cannot read 'a while' as a duration"):
        storage_grace()


def test_a_call_is_repeated_while_the_connection_is_lost_then_given_up_in_one_line():
    failures = iter([_wrapped(_lost()), _lost()])
    resets = []

    def flaky() -> str:
        failure = next(failures, None)
        if failure is not None:
            raise failure
        return "done"

    assert patiently(flaky, label="db", grace=10, reset=lambda: resets.append(1)) == "done"
    assert len(resets) == 2

    def down() -> str:
        raise _wrapped(_lost())

    with pytest.raises(StorageUnavailable) as caught:
        patiently(down, label="postgresql://u:***@db/automl", grace=0.6)
    message = str(caught.value)
    assert message.startswith("storage postgresql://u:***@db/automl unreachable for 1 s")
    assert "(server closed the connection unexpectedly)" in message and "AUTOML_STORAGE_GRACE" in message
    assert "\n" not in message

    def broken() -> str:
        raise _wrapped(ValueError("a bug"))

    with pytest.raises(optuna.exceptions.StorageInternalError):
        patiently(broken, label="db", grace=10)  # not an outage: at once


def _drop_after_commit(monkeypatch, name: str) -> list[int]:
    """The first call of RDBStorage.``name`` commits, then its connection drops (the reply is lost)."""
    original = getattr(RDBStorage, name)
    calls = []

    def committed_then_lost(self, *args, **kwargs):
        calls.append(1)
        result = original(self, *args, **kwargs)
        if len(calls) == 1:
            raise _wrapped(_lost())
        return result

    monkeypatch.setattr(RDBStorage, name, committed_then_lost)
    return calls


def _storage(tmp_path) -> RDBStorage:
    storage = open_storage(f"sqlite:///{tmp_path / 'db.sqlite'}", heartbeat_interval=None)
    storage._tokens = True  # as on a server, where a commit's reply can be lost
    return storage


def test_a_trial_whose_creation_committed_before_the_drop_is_not_created_twice(tmp_path, monkeypatch):
    storage = _storage(tmp_path)
    study = optuna.create_study(study_name="s", storage=storage)
    calls = _drop_after_commit(monkeypatch, "_create_new_trial")
    trial = study.ask()
    assert len(calls) == 1  # the retry found the first attempt's trial by its token
    trials = study.get_trials()
    assert [t.number for t in trials] == [trial.number] == [0]
    assert CREATE_TOKEN in trials[0].system_attrs


def test_a_finish_that_committed_before_the_drop_is_not_repeated(tmp_path, monkeypatch):
    storage = _storage(tmp_path)
    study = optuna.create_study(study_name="s", storage=storage)
    trial = study.ask()
    trial.suggest_float("x", 0.0, 1.0)
    _drop_after_commit(monkeypatch, "set_trial_state_values")
    study.tell(trial, 0.25)  # the retry reads COMPLETE with 0.25 back: done, no UpdateFinishedTrialError
    (frozen,) = study.get_trials()
    assert frozen.state == optuna.trial.TrialState.COMPLETE and frozen.value == 0.25


@pytest.mark.filterwarnings("ignore:Heartbeat of storage is supposed to be used with Study.optimize")
def test_a_claim_of_a_waiting_trial_lost_with_its_reply_is_left_to_the_heartbeat(tmp_path, monkeypatch):
    storage = open_storage(f"sqlite:///{tmp_path / 'db.sqlite'}", heartbeat_interval=1, grace_period=2)
    study = optuna.create_study(study_name="s", storage=storage)
    study.enqueue_trial({"x": 0.5})
    calls = _drop_after_commit(monkeypatch, "set_trial_state_values")
    trial = study.ask()  # the claimed trial cannot be told from another process's: Optuna takes a new one
    assert len(calls) == 1
    states = {t.number: t.state for t in study.get_trials()}
    assert states == {0: optuna.trial.TrialState.RUNNING, 1: optuna.trial.TrialState.RUNNING}
    assert trial.number == 1
    # Nobody holds trial 0: its one heartbeat goes stale, and the heartbeat check fails and retries it.
    time.sleep(3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        optuna.storages.fail_stale_trials(study)
    after = {t.number: t.state for t in study.get_trials()}
    assert after[0] == optuna.trial.TrialState.FAIL
    retries = [t for t in study.get_trials() if t.system_attrs.get("failed_trial") == 0]
    assert [t.state for t in retries] == [optuna.trial.TrialState.WAITING]


def test_a_trials_results_written_in_one_transaction_are_retried_too(tmp_path, monkeypatch):
    """``write_trial_results`` writes through the engine, not a storage method: it is retried all the same."""
    from automl.store import _numbering, write_trial_results

    storage = open_storage(f"sqlite:///{tmp_path / 'db.sqlite'}", heartbeat_interval=None)
    study = optuna.create_study(study_name="s", storage=storage)
    trial = study.ask()
    original = _numbering._write_rdb
    calls = []

    def lost_once(*args):
        calls.append(1)
        if len(calls) == 1:
            raise _wrapped(_lost())
        return original(*args)

    monkeypatch.setattr(_numbering, "_write_rdb", lost_once)
    write_trial_results(storage, trial._trial_id, intermediate={1: 0.5}, user_attrs={"device": "cpu"})
    assert len(calls) == 2
    (frozen,) = study.get_trials()
    assert frozen.intermediate_values == {1: 0.5} and frozen.user_attrs == {"device": "cpu"}
