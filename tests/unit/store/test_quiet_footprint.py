"""The fronts measured again after a search: one study attribute, read back, current until a trial finishes
after it, and the only latencies its numbers are compared with."""

from __future__ import annotations

import optuna

from automl.store import (
    QUIET_ATTR,
    QuietFootprint,
    TrialRecord,
    TrialState,
    load_quiet,
    read_quiet,
    record_quiet,
)

QUIET = QuietFootprint(
    trials={3: {"size_bytes": 1200, "latency_ms": 0.25, "latency_ms_256": 0.01}},
    last_trial=5,
    at="2026-01-01 12:00:00",
    where="the retrain",
)


def trial(number: int, state: TrialState = TrialState.COMPLETE) -> TrialRecord:
    return TrialRecord(
        number=number, state=state, score=0.9, params={}, size_bytes=1200, latency_ms=4.0, latency_ms_256=0.2
    )


def test_the_record_round_trips_through_the_study(tmp_path):
    storage = f"sqlite:///{tmp_path / 'db.sqlite'}"
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    optuna.create_study(study_name="s", storage=storage)
    assert load_quiet(storage, "s") is None
    record_quiet(storage, "s", QUIET)
    assert load_quiet(storage, "s") == QUIET
    study = optuna.load_study(study_name="s", storage=storage)
    assert study.user_attrs[QUIET_ATTR]["trials"] == {
        "3": {"size_bytes": 1200, "latency_ms": 0.25, "latency_ms_256": 0.01}
    }


def test_a_value_of_another_shape_reads_as_none_or_is_skipped():
    assert read_quiet({}) is None
    assert read_quiet({QUIET_ATTR: "x"}) is None
    odd = read_quiet({QUIET_ATTR: {"trials": {"a": {}, "2": {"latency_ms": None, "size_bytes": 7}}}})
    assert odd is not None and odd.trials == {2: {"size_bytes": 7.0}} and odd.last_trial == -1


def test_it_is_current_until_a_trial_completes_after_it():
    assert QUIET.current([trial(3), trial(5), trial(6, TrialState.PRUNED), trial(7, TrialState.FAIL)])
    assert not QUIET.current([trial(3), trial(6)])
    assert not QuietFootprint().current([trial(0)])  # nothing measured


def test_applied_only_the_latencies_measured_again_remain():
    measured, other = QUIET.apply([trial(3), trial(4)])
    assert (measured.latency_ms, measured.latency_ms_256, measured.size_bytes) == (0.25, 0.01, 1200)
    assert (other.latency_ms, other.latency_ms_256, other.size_bytes) == (None, None, 1200)
