"""Failure kinds: which count toward the failure streak, and runs written before kinds were stored."""

from __future__ import annotations

import optuna
import pytest

from automl.outcomes import FailureKind, StopReason
from automl.store import TrialState, failure_kind_of, load_records


def test_only_kinds_about_the_config_count_toward_the_streak():
    config = {k for k in FailureKind if k.counts_toward_streak}
    assert config == {
        FailureKind.ERROR,
        FailureKind.NOT_A_NUMBER,
        FailureKind.OUT_OF_MEMORY,
        FailureKind.TIMEOUT,
        FailureKind.NO_SCORE,
    }
    for kind in (FailureKind.INTERRUPTED, FailureKind.WORKER_DIED, FailureKind.STALE_HEARTBEAT,
                 FailureKind.STORAGE, FailureKind.BUDGET):  # fmt: skip
        assert not kind.counts_toward_streak


@pytest.mark.parametrize(
    ("message", "kind"),
    [
        ("nan_loss: loss is nan at epoch 3", FailureKind.NOT_A_NUMBER),
        ("out_of_memory: twice, at batch 64 and 32", FailureKind.OUT_OF_MEMORY),
        ("timeout: time limit reached after epoch 2", FailureKind.TIMEOUT),
        ("error: ValueError: bad shape", FailureKind.ERROR),
        ("no_score: training ended without a finite validation score", FailureKind.NO_SCORE),
        ("interrupted: the search was stopped mid-trial", FailureKind.INTERRUPTED),
        ("interrupted: KeyboardInterrupt", FailureKind.INTERRUPTED),
        ("worker died: signal 9", FailureKind.WORKER_DIED),
        ("budget: the search's time budget ran out before the first epoch ended", FailureKind.BUDGET),
        (None, FailureKind.STALE_HEARTBEAT),  # Optuna's heartbeat check writes no message
        ("something unforeseen", FailureKind.ERROR),
    ],
)
def test_a_runs_old_messages_give_their_kinds(message, kind):
    assert FailureKind.infer(message) is kind
    assert failure_kind_of(TrialState.FAIL, {"failure": message}) is kind


def test_a_stored_kind_wins_over_the_message_and_only_failed_trials_have_one():
    attrs = {"failure": "error: OperationalError: server closed the connection", "failure_kind": "storage"}
    assert failure_kind_of(TrialState.FAIL, attrs) is FailureKind.STORAGE
    assert failure_kind_of(TrialState.COMPLETE, attrs) is None


def test_records_read_the_kind_back_from_the_storage(tmp_path):
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    study = optuna.create_study(study_name="s", storage=url)
    old = study.ask()
    old.set_user_attr("failure", "worker died: signal 9")  # written before kinds were stored
    study.tell(old, state=optuna.trial.TrialState.FAIL)
    new = study.ask()
    new.set_user_attr("failure", "nan_loss: diverged")
    new.set_user_attr("failure_kind", FailureKind.NOT_A_NUMBER.value)
    study.tell(new, state=optuna.trial.TrialState.FAIL)
    assert [r.failure_kind for r in load_records(url, "s")] == [
        FailureKind.WORKER_DIED,
        FailureKind.NOT_A_NUMBER,
    ]


def test_one_enum_says_why_a_trial_stopped():
    from automl.training import StopReason as TrainingStopReason

    assert TrainingStopReason is StopReason
    assert {r.value for r in StopReason} >= {
        "early_stopping",
        "max_epochs",
        "pruned",
        "budget",
        "failure",
        "callback",
    }
