import math

import optuna
import pytest

from automl.exceptions import UserError
from automl.store import (
    StudyInfo,
    TrialRecord,
    TrialState,
    best_first,
    load_records,
    load_study_info,
    mask_password,
    open_storage,
    storage_url_for,
    study_name,
)


def info(**overrides):
    values = dict(
        dataset="digits",
        dataset_fingerprint="abc",
        space="tiny",
        space_hash="def",
        task="multiclass",
        metric="accuracy",
        direction="maximize",
        backend="optuna",
        algorithm="tpe",
        baselines={"majority": 0.1, "linear": float("nan")},
    )
    values.update(overrides)
    return StudyInfo(**values)


def test_records_round_trip_through_a_real_sqlite_storage(tmp_path):
    storage = open_storage(storage_url_for(tmp_path, None), heartbeat_interval=None)
    name = study_name("run", "digits", "tiny", "optuna", "tpe")
    assert name == "run/digits/tiny/optuna-tpe"
    study = optuna.create_study(study_name=name, storage=storage, direction="maximize")
    for key, value in info().to_attrs().items():
        study.set_user_attr(key, value)
    record = TrialRecord(
        number=0,
        state=TrialState.COMPLETE,
        score=0.9,
        params={"depth": 2},
        config={"depth": 2, "epochs": 3},
        history={"val_accuracy": [0.5, float("nan"), 0.9]},
        best_epoch=3,
        epochs_run=3,
        stopped_by="max_epochs",
        fit_seconds=1.5,
        n_params=1234,
        seed=0,
    )
    trial = study.ask({"depth": optuna.distributions.IntDistribution(1, 3)})
    for key, value in record.user_attrs().items():
        trial.set_user_attr(key, value)
    study.tell(trial, 0.9)

    loaded = load_records(storage_url_for(tmp_path, None), name)
    assert len(loaded) == 1
    got = loaded[0]
    assert got.state is TrialState.COMPLETE and got.score == 0.9
    assert got.config == {"depth": 2, "epochs": 3}
    assert got.history["val_accuracy"] == [0.5, None, 0.9]  # NaN stored as JSON null
    assert (got.best_epoch, got.epochs_run, got.n_params, got.stopped_by) == (3, 3, 1234, "max_epochs")
    stored = load_study_info(storage, name)
    assert stored.baselines == {"majority": 0.1, "linear": None}
    assert stored.direction == "maximize"


def test_pruned_trial_score_is_last_intermediate_value(tmp_path):
    study = optuna.create_study(
        storage=open_storage(storage_url_for(tmp_path, None), heartbeat_interval=None)
    )
    trial = study.ask()
    trial.report(0.5, 1)
    trial.report(0.4, 2)
    study.tell(trial, state=optuna.trial.TrialState.PRUNED)
    record = TrialRecord.from_frozen(study.trials[0])
    assert record.state is TrialState.PRUNED and math.isclose(record.score, 0.4)


@pytest.mark.parametrize(
    ("url", "fragment"),
    [
        ("mongodb://host/db", "bad storage URL 'mongodb://host/db'"),
        ("just-a-file.db", "expected sqlite:///path/to/file.db"),
        ("sqlite:////nonexistent-dir/x/automl.db", "cannot write the SQLite storage in /nonexistent-dir/x"),
    ],
)
def test_bad_storage_urls_are_user_errors(url, fragment):
    with pytest.raises(UserError) as excinfo:
        open_storage(url)
    assert fragment in str(excinfo.value)
    assert "\n" not in str(excinfo.value)


def test_unreachable_postgres_is_one_clear_line():
    with pytest.raises(
        UserError, match=r"cannot open storage 'postgresql\+psycopg2://u:\*\*\*@127.0.0.1:1/db'"
    ):
        open_storage("postgresql://u:secret@127.0.0.1:1/db")


def test_mask_password():
    assert mask_password("postgresql://me:s3cr3t@db.example/x") == "postgresql://me:***@db.example/x"
    assert mask_password("sqlite:///tmp/a.db") == "sqlite:///tmp/a.db"


def test_best_first_ranks_complete_trials_in_the_metric_direction():
    def record(number, state, score):
        return TrialRecord(number=number, state=state, score=score, params={}, config={})

    records = [
        record(0, TrialState.COMPLETE, 0.7),
        record(1, TrialState.PRUNED, 0.99),  # pruned: never a winner
        record(2, TrialState.COMPLETE, 0.9),
        record(3, TrialState.FAIL, None),
        record(4, TrialState.COMPLETE, 0.9),  # a tie keeps trial order
    ]
    assert [r.number for r in best_first(records, "maximize")] == [2, 4, 0]
    assert [r.number for r in best_first(records, "minimize")] == [0, 2, 4]
    assert best_first(records[1:2], "maximize") == []
