"""The fronts measured again after a search: which configs, in this process, written to the study."""

from __future__ import annotations

import logging

import optuna
import pytest

from automl.exceptions import UserError
from automl.store import StudyInfo, TrialRecord, TrialState, load_quiet, open_storage, storage_url_for
from automl.training import footprint_of, remeasure_front


def mlp(units: int) -> dict:
    return {"depth": 1, "units_0": units, "optimizer": "adam", "learning_rate": 0.01, "batch_size": 64,
            "epochs": 1}  # fmt: skip


@pytest.fixture
def study(tmp_path, cancer):
    """Four complete trials with footprints as a busy search recorded them, and a pruned one."""
    storage = open_storage(storage_url_for(tmp_path, None), heartbeat_interval=None)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(study_name="s", storage=storage, direction="maximize")
    info = StudyInfo(
        dataset=cancer.name, dataset_fingerprint=cancer.fingerprint, space="tiny", space_hash="h",
        task="binary", metric="accuracy", direction="maximize", backend="optuna", algorithm="tpe",
        objectives=["latency"],
    )  # fmt: skip
    for key, value in info.to_attrs().items():
        study.set_user_attr(key, value)
    rows = [  # (units, score, recorded latency)
        (64, 0.97, 0.9),  # the best: on every front
        (8, 0.93, 5.0),  # slowed by a neighbour: off the latency front, on those of weights and size
        (32, 0.95, 0.5),  # on the latency front
        (48, 0.90, 4.0),  # on none
    ]
    trials = []
    for number, (units, score, latency) in enumerate(rows):
        record = TrialRecord(
            number=number, state=TrialState.COMPLETE, score=score, params={}, config=mlp(units),
            n_params=31 * units + units + 2, size_bytes=1000 + 130 * units, latency_ms=latency,
            latency_ms_256=latency / 100,
        )  # fmt: skip
        trials.append(
            optuna.trial.create_trial(
                value=score, params={}, distributions={}, user_attrs=record.user_attrs()
            )
        )
    trials.append(
        optuna.trial.create_trial(state=optuna.trial.TrialState.PRUNED, params={}, distributions={})
    )
    study.add_trials(trials)
    return storage


def test_the_fronts_configs_are_measured_again_and_recorded(study, cancer):
    quiet = remeasure_front(study, "s", cancer, where="a test", seconds=0.05)
    assert sorted(quiet.trials) == [0, 1, 2]  # 3 is on no front: not measured
    assert quiet.last_trial == 3 and quiet.where == "a test" and quiet.at
    assert load_quiet(study, "s") == quiet
    for number, units in ((0, 64), (1, 8), (2, 32)):
        measured = quiet.trials[number]
        assert 0 < measured["latency_ms"] < 1e3 and 0 < measured["latency_ms_256"] < 1e3
        assert measured["size_bytes"] == pytest.approx(footprint_of(mlp(units), cancer).size_bytes, rel=0.02)
    assert quiet.trials[1]["size_bytes"] < quiet.trials[2]["size_bytes"] < quiet.trials[0]["size_bytes"]


def test_a_config_that_cannot_be_built_is_left_out_with_one_line(study, cancer, caplog, monkeypatch):
    import automl.training._remeasure as module

    real = module.footprint_of

    def failing(config, dataset, **kwargs):
        if config["units_0"] == 8:
            raise ValueError("no such layer")
        return real(config, dataset, **kwargs)

    monkeypatch.setattr(module, "footprint_of", failing)
    with caplog.at_level(logging.WARNING, logger="automl.training"):
        quiet = remeasure_front(study, "s", cancer, seconds=0.01)
    assert sorted(quiet.trials) == [0, 2]
    assert [r.getMessage() for r in caplog.records] == [
        "trial 1: not measured again (ValueError: no such layer)"
    ]


def test_another_dataset_is_refused_in_one_line(study, diabetes):
    with pytest.raises(UserError, match="is not the data study 's' searched") as info:
        remeasure_front(study, "s", diabetes)
    assert "\n" not in str(info.value) and load_quiet(study, "s") is None
