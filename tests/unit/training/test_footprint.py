"""Footprint: a model's saved size and prediction latency, recorded per trial and measured from a config."""

from __future__ import annotations

import logging
import math
import time
from dataclasses import replace

import optuna
import pytest

from automl.engine import TrialRunner
from automl.model import build_model, count_params
from automl.store import TrialState, load_records, open_storage, storage_url_for
from automl.testing import StubTrainer
from automl.training import Footprint, footprint_of, latency_note, measure_footprint

MLP = {
    "depth": 1,
    "units_0": 8,
    "optimizer": "adam",
    "learning_rate": 0.01,
    "batch_size": 64,
    "epochs": 1,
    "dropout": 0.5,
}
FIELDS = ("size_bytes", "latency_ms", "latency_ms_256")


def footprint(record) -> tuple:
    return tuple(getattr(record, name) for name in FIELDS)


@pytest.fixture(scope="module")
def trained(cancer):
    """One real trial: 1 epoch of a 8-unit MLP on 350 rows (its 100 validation rows make 256 repeated)."""
    return TrialRunner(cancer, metric="accuracy", seed=0).run(MLP, number=0)


def test_a_complete_trials_footprint_is_recorded_and_round_trips_through_the_storage(trained, tmp_path):
    record = trained.record
    assert trained.state is TrialState.COMPLETE
    assert record.size_bytes > 4 * record.n_params  # float32 weights, and the file's config around them
    for latency in (record.latency_ms, record.latency_ms_256):
        assert isinstance(latency, float) and 0.0 < latency < 1e3 and math.isfinite(latency)

    storage = open_storage(storage_url_for(tmp_path, None), heartbeat_interval=None)
    study = optuna.create_study(study_name="footprint", storage=storage, direction="maximize")
    trial = study.ask()
    for key, value in record.user_attrs().items():
        trial.set_user_attr(key, value)
    study.tell(trial, record.score)
    (loaded,) = load_records(storage, "footprint")
    assert footprint(loaded) == footprint(record)


def test_measuring_a_config_without_training_gives_the_trained_models_size(trained, cancer):
    measured = footprint_of(MLP, cancer)
    assert measured.size_bytes == pytest.approx(trained.record.size_bytes, rel=0.02)
    assert 0.0 < measured.latency_ms < 1e3 and 0.0 < measured.latency_ms_256 < 1e3


def test_a_wider_config_is_larger(cancer):
    narrow, wide = MLP, {**MLP, "units_0": 64}
    added = count_params(wide, cancer) - count_params(narrow, cancer)
    assert added > 0
    # The file stores its weights uncompressed: 4 bytes each, beside the same config.
    assert footprint_of(wide, cancer).size_bytes - footprint_of(narrow, cancer).size_bytes >= 4 * added


def test_the_timed_calls_stop_at_the_time_limit(cancer):
    model = build_model(MLP, cancer)
    predict, calls = model.predict_on_batch, []

    def counted(x):
        calls.append(len(x))
        return predict(x)

    model.predict_on_batch = counted
    started = time.perf_counter()
    measured = measure_footprint(model, cancer)
    assert time.perf_counter() - started < 5.0  # about 50 ms on TensorFlow, 250 ms on JAX (2 CPU cores)
    assert isinstance(measured, Footprint) and measured.size_bytes > 0
    # A warm-up call per batch size, then 11 timed pairs: one row, then 256 (100 rows repeated).
    assert calls == [1, 256] + [1, 256] * 11
    calls.clear()
    measure_footprint(model, cancer, seconds=0.0)
    assert calls == [1, 256, 1, 256]  # one timed pair at least


def test_a_failed_measurement_leaves_the_trial_complete_without_footprint(cancer, caplog):
    def unmeasurable(config, dataset, **kwargs):
        return replace(StubTrainer()(config, dataset, **kwargs), model=object())

    with caplog.at_level(logging.WARNING, logger="automl.runner"):
        outcome = TrialRunner(cancer, metric="accuracy", trainer=unmeasurable).run(MLP, number=3)
    assert outcome.state is TrialState.COMPLETE and outcome.score is not None
    assert footprint(outcome.record) == (None, None, None)
    (warning,) = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert warning.startswith("trial 3: footprint not measured: AttributeError") and "\n" not in warning


def test_a_stand_in_trainer_or_a_spent_budget_records_no_footprint(cancer, caplog):
    stub = TrialRunner(cancer, metric="accuracy", trainer=StubTrainer()).run(MLP, number=0)
    assert stub.state is TrialState.COMPLETE and footprint(stub.record) == (None, None, None)

    def untrained(config, dataset, **kwargs):
        return replace(StubTrainer()(config, dataset, **kwargs), model=build_model(config, dataset))

    runner = TrialRunner(cancer, metric="accuracy", trainer=untrained, deadline=time.monotonic() + 600)
    assert all(value is not None for value in footprint(runner.run(MLP, number=1).record))

    def until_the_deadline(config, dataset, **kwargs):
        runner.deadline = time.monotonic()  # the search's time ran out as the trial ended
        return untrained(config, dataset, **kwargs)

    runner.trainer = until_the_deadline
    late = runner.run(MLP, number=2)
    assert late.state is TrialState.COMPLETE and footprint(late.record) == (None, None, None)
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_the_manifests_note_names_the_workers():
    assert latency_note(1).endswith("with 1 worker searching at once")
    assert latency_note([2, 1, 2]).endswith("with 1 to 2 workers searching at once")
    assert "in each trial's process on its device, right after training" in latency_note(4)
