"""Budgets, failure streaks, resume, pruning and the deadline: the engine's rules with a stub trainer."""

from __future__ import annotations

import math
import time

import pytest
from stub_search import STUDY, stub_search, stub_space

from automl.exceptions import FatalError, UserError
from automl.outcomes import FailureKind, StopReason
from automl.store import TrialState, trial_seed
from automl.testing import StubTrainer


def test_trial_budget_counts_finished_trials_and_seeds_follow_numbers(url, iris):
    trainer = StubTrainer()
    result = stub_search(url, iris, trainer, trials=5, seed=7)
    assert [r.number for r in result.records] == [0, 1, 2, 3, 4]
    assert all(r.state is TrialState.COMPLETE for r in result.records)
    assert [r.seed for r in result.records] == [trial_seed(7, n) for n in range(5)] == [7, 8, 9, 10, 11]
    # The seed the trainer was called with is the recorded one.
    assert [seed for _, seed, _ in trainer.calls] == [7, 8, 9, 10, 11]
    best = max(result.records, key=lambda r: r.score or -1)
    assert best.score == pytest.approx(best.config["dropout"] * (1 - 0.5**3))


def test_resume_continues_to_the_budget_without_repeating_numbers(url, iris):
    stub_search(url, iris, StubTrainer(), trials=3)
    trainer = StubTrainer()
    resumed = stub_search(url, iris, trainer, trials=7, resume=True)
    assert len(trainer.calls) == 4
    assert [r.number for r in resumed.records] == list(range(7))
    assert len(resumed.finished) == 7


def test_resume_of_a_full_study_trains_nothing(url, iris):
    stub_search(url, iris, StubTrainer(), trials=3)
    trainer = StubTrainer()
    again = stub_search(url, iris, trainer, trials=3, resume=True)
    assert trainer.calls == [] and len(again.records) == 3


def test_an_existing_study_without_resume_is_refused(url, iris):
    stub_search(url, iris, StubTrainer(), trials=1)
    with pytest.raises(UserError, match="already exists"):
        stub_search(url, iris, StubTrainer(), trials=1)


def test_failed_trials_do_not_count_and_a_streak_stops_the_search(url, iris):
    # Configs with dropout below 0.45 diverge: about half of the random proposals.
    trainer = StubTrainer(fail=lambda c: "nan_loss" if c["dropout"] < 0.45 else None)
    result = stub_search(url, iris, trainer, trials=6, max_consecutive_failures=50)
    finished = result.finished
    failed = [r for r in result.records if r.state is TrialState.FAIL]
    assert len(finished) == 6 and failed, "the budget counts finished trials only"
    assert all(r.config["dropout"] < 0.45 for r in failed)
    assert all(r.failure.startswith("nan_loss") and r.stopped_by == StopReason.FAILURE for r in failed)
    assert all(r.config["dropout"] >= 0.45 for r in finished)


def test_consecutive_failures_raise_fatal_and_keep_finished_trials(url, iris):
    calls = {"n": 0}

    def fail_after_two(config):
        calls["n"] += 1
        return "nan_loss" if calls["n"] > 2 else None

    with pytest.raises(FatalError, match="3 trials failed in a row"):
        stub_search(url, iris, StubTrainer(fail=fail_after_two), trials=10, max_consecutive_failures=3)
    from automl.store import load_records, open_storage

    records = load_records(open_storage(url), STUDY)
    assert [r.state for r in records] == [TrialState.COMPLETE] * 2 + [TrialState.FAIL] * 3


def test_a_success_resets_the_failure_streak(url, iris):
    pattern = iter(["nan_loss", "nan_loss", None] * 4)
    result = stub_search(
        url, iris, StubTrainer(fail=lambda c: next(pattern)), trials=3, max_consecutive_failures=3
    )
    assert [r.state.value for r in result.records] == ["fail", "fail", "complete"] * 3


def test_an_exception_in_training_fails_the_trial_and_the_search_goes_on(url, iris):
    boom = iter([RuntimeError("cuDNN exploded"), None, None])
    result = stub_search(url, iris, StubTrainer(raises=lambda c: next(boom)), trials=2)
    first = result.records[0]
    assert first.state is TrialState.FAIL
    assert first.failure == "error: RuntimeError: cuDNN exploded"
    assert len(result.finished) == 2


@pytest.mark.parametrize("backend", ["optuna", "keras_tuner"])
def test_storage_failures_are_their_own_kind_and_never_stop_the_search(url, iris, backend):
    """A database that restarts under trials says nothing about the space: with a limit of 2 failures in
    a row, four storage failures in a row leave the search running to its budget."""
    import optuna

    errors = iter([optuna.exceptions.StorageInternalError("server closed the connection")] * 4)
    trainer = StubTrainer(raises=lambda c: next(errors, None))
    result = stub_search(url, iris, trainer, trials=3, backend=backend, max_consecutive_failures=2)
    failed = [r for r in result.records if r.state is TrialState.FAIL]
    assert len(failed) == 4 and len(result.finished) == 3
    assert {r.failure_kind for r in failed} == {FailureKind.STORAGE}
    assert all(r.failure.startswith("storage: StorageInternalError") for r in failed)
    if backend == "optuna":  # it proposes from the study: each config is tried again, as the same trial
        trials = optuna.load_study(study_name=STUDY, storage=url).trials
        retries = [t for t in trials if "failed_trial" in t.system_attrs]
        originals = [t for t in trials if t.state == optuna.trial.TrialState.FAIL and t not in retries]
        assert originals and retries
        for retry in retries:
            original = next(t for t in originals if t.number == retry.system_attrs["failed_trial"])
            assert retry.params == original.params
            assert retry.system_attrs["retry_history"][0] == original.number


def test_config_failures_stop_the_search_whatever_process_failures_lie_between(url, iris):
    """Failures of other kinds between them neither count nor break a streak of config failures."""
    import optuna

    outcomes = iter([ValueError("bad"), optuna.exceptions.StorageInternalError("lost"), ValueError("bad")])
    trainer = StubTrainer(raises=lambda c: next(outcomes, None))
    with pytest.raises(FatalError, match="2 trials failed in a row"):
        stub_search(url, iris, trainer, trials=5, max_consecutive_failures=2)


def test_a_user_error_inside_training_stops_the_search(url, iris):
    trainer = StubTrainer(raises=lambda c: UserError("class_weight applies to classification only"))
    with pytest.raises(UserError, match="class_weight"):
        stub_search(url, iris, trainer, trials=3)


def test_the_deadline_stops_new_trials_and_cuts_the_running_one(url, iris):
    trainer = StubTrainer(seconds_per_epoch=0.05, default_epochs=1000)
    started = time.monotonic()
    # A second of budget: a loaded machine (the suite runs on every core) still fits epochs in it.
    result = stub_search(url, iris, trainer, trials=None, timeout=1.0, space=stub_space(epochs=1000))
    elapsed = time.monotonic() - started
    assert elapsed < 1.0 + 1.0
    # One long trial: it started before the deadline and was cut by it, keeping its best epoch.
    assert len(result.records) == 1
    cut = result.records[0]
    assert cut.state is TrialState.COMPLETE and cut.stopped_by == StopReason.BUDGET
    assert 3 <= cut.epochs_run <= 20


def test_a_deadline_before_the_first_epoch_fails_the_trial_with_budget_as_reason(url, iris):
    trainer = StubTrainer(seconds_per_epoch=0.0)
    result = stub_search(url, iris, trainer, trials=None, timeout=1e-6)
    assert len(result.records) <= 1
    for record in result.records:
        assert record.state is TrialState.FAIL and record.failure.startswith("budget")


def test_short_trials_under_a_time_budget_stop_at_the_deadline(url, iris):
    import gc

    gc.collect()  # a full collection (TensorFlow loaded by other tests) takes ~0.4 s: not inside the budget
    trainer = StubTrainer(seconds_per_epoch=0.01)
    started = time.monotonic()
    result = stub_search(url, iris, trainer, trials=None, timeout=1.5)
    elapsed = time.monotonic() - started
    assert 1.5 <= elapsed < 1.5 + 1.0
    assert len(result.finished) >= 5
    deadline = min(r.started for r in result.records).timestamp() + 1.5
    assert all(r.started.timestamp() < deadline for r in result.records)


def test_no_trial_starts_with_less_time_left_than_an_epoch_takes(url, iris):
    trainer = StubTrainer(seconds_per_epoch=0.3, default_epochs=1)
    result = stub_search(url, iris, trainer, trials=None, timeout=1.0, space=stub_space(epochs=1))
    first = min(r.started for r in result.records).timestamp()
    # Three 0.3 s trials fit; a fourth, started with 0.1 s left, would end 0.2 s past the deadline.
    assert all(r.finished.timestamp() <= first + 1.0 + 0.1 for r in result.records)
    assert all(r.state is TrialState.COMPLETE for r in result.records)


def test_median_pruning_prunes_poor_configs_and_pruned_trials_count(url, iris):
    # Good configs climb; poor ones (dropout < 0.45) stay flat and low.
    def score(config, epoch):
        return config["dropout"] * epoch / 5 if config["dropout"] >= 0.45 else 0.01

    trainer = StubTrainer(score=score)
    result = stub_search(
        url, iris, trainer, trials=14, pruner="median", space=stub_space(epochs=5),
        options={"pruner_startup_trials": 3, "n_warmup_steps": 1},
    )  # fmt: skip
    pruned = [r for r in result.records if r.state is TrialState.PRUNED]
    assert pruned, "no trial was pruned"
    assert all(r.config["dropout"] < 0.45 for r in pruned)
    assert all(r.stopped_by == StopReason.PRUNED and r.epochs_run < 5 for r in pruned)
    assert len(result.finished) == 14


def test_progress_sees_every_trial_and_the_best_score(url, iris):
    events = []

    class Recorder:
        def start(self, state):
            events.append(("start", state.finished))

        def trial_started(self, number):
            events.append(("started", number))

        def trial_finished(self, record, state):
            events.append(("finished", record.number, state.finished, state.best))

        def stop(self, state):
            events.append(("stop", state.finished))

    from automl.backends import get_backend
    from automl.engine import Budget, open_study, run_session
    from automl.store import open_storage

    space = stub_space()
    backend = get_backend("optuna")(algorithm="random", pruner="none", seed=0)
    study, info = open_study(
        open_storage(url), "p", space=space, dataset=iris, metric="accuracy", direction="maximize",
        backend=backend, seed=0, resume=False, local=True,
    )  # fmt: skip
    run_session(
        backend, study, info, space, iris, Budget(trials=3), seed=0, trainer=StubTrainer(),
        device="stub", progress=Recorder(),
    )  # fmt: skip
    assert events[0] == ("start", 0) and events[-1] == ("stop", 3)
    finished = [e for e in events if e[0] == "finished"]
    assert [e[1:3] for e in finished] == [(0, 1), (1, 2), (2, 3)]
    best = [e[3] for e in finished]
    assert best == sorted(best) and not any(math.isnan(b) for b in best)


def test_pruner_options_move_the_rungs(url, iris):
    # Successive halving's first rung at epoch 2 (not 1), halving there: every pruned trial ran 2 epochs.
    result = stub_search(
        url, iris, StubTrainer(), trials=10, pruner="successive_halving", space=stub_space(epochs=4),
        options={"min_resource": 2, "reduction_factor": 2},
    )  # fmt: skip
    pruned = [r for r in result.records if r.state is TrialState.PRUNED]
    assert pruned and all(r.epochs_run == 2 for r in pruned)
    # The default rungs (first at epoch 1) prune after one epoch.
    again = stub_search(
        url, iris, StubTrainer(), trials=10, pruner="successive_halving", space=stub_space(epochs=4),
        study="default-rungs",
    )  # fmt: skip
    assert {r.epochs_run for r in again.records if r.state is TrialState.PRUNED} == {1}


def test_resume_fails_only_trials_whose_process_is_gone(url, iris):
    import os
    import socket
    import subprocess
    import sys

    from optuna.distributions import FloatDistribution

    from automl.store import reserve_trial

    stub_search(url, iris, StubTrainer(), trials=1)
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    host = socket.gethostname()
    study = stub_search(url, iris, StubTrainer(), trials=1, resume=True).session.study
    dist = {"dropout": FloatDistribution(0.0, 0.9)}
    _, alive = reserve_trial(study, {"dropout": 0.1}, dist, {"worker": f"{host}:{os.getpid()}"})
    _, gone = reserve_trial(study, {"dropout": 0.2}, dist, {"worker": f"{host}:{dead.stdout.strip()}"})
    _, elsewhere = reserve_trial(study, {"dropout": 0.3}, dist, {"worker": "another-machine:1"})
    # A shared storage: another process may be running; only the dead one's trial is failed, and retried.
    resumed = stub_search(url, iris, StubTrainer(), trials=2, resume=True, local=False)
    states = {r.number: r.state for r in resumed.records}
    assert states[alive] is TrialState.RUNNING and states[elsewhere] is TrialState.RUNNING
    assert states[gone] is TrialState.FAIL
    assert resumed.records[gone].failure.startswith("interrupted")
    retried = [r for r in resumed.records if r.number > gone and r.params.get("dropout") == 0.2]
    assert retried and retried[0].state is TrialState.COMPLETE


def test_a_worker_waits_for_the_trial_another_runs_rather_than_overshoot_the_budget(url, iris):
    """With one trial left and another process running one, a worker starts none until that trial ends:
    it ends the search if it finished, and leaves the trial to run if it failed. A trial far older than
    the study's longest is not waited for (a machine gone without a heartbeat)."""
    import threading
    from datetime import datetime, timedelta

    import optuna
    from optuna.distributions import FloatDistribution

    from automl.store import reserve_trial

    # The study's one finished trial took about 1.5 s: trials up to twice as old are waited for.
    study = stub_search(url, iris, StubTrainer(seconds_per_epoch=0.5), trials=1).session.study
    dist = {"dropout": FloatDistribution(0.0, 0.9)}
    searched = stub_search(url, iris, StubTrainer(), trials=1, resume=True)
    session = searched.session
    session.budget = type(session.budget)(trials=2)
    _, other = reserve_trial(study, {"dropout": 0.1}, dist, {"worker": "another-machine:1"})
    trial_id = next(t._trial_id for t in study.get_trials() if t.number == other)

    def finish_later(state):
        time.sleep(1.0)
        study._storage.set_trial_state_values(trial_id, state, [0.5] if state.name == "COMPLETE" else None)

    waiter = threading.Thread(target=finish_later, args=(optuna.trial.TrialState.COMPLETE,))
    started = time.monotonic()
    waiter.start()
    assert session.should_stop() is True  # the other's trial filled the budget
    assert time.monotonic() - started >= 0.9
    waiter.join()

    session.budget = type(session.budget)(trials=3)
    _, failing = reserve_trial(study, {"dropout": 0.2}, dist, {"worker": "another-machine:1"})
    trial_id = next(t._trial_id for t in study.get_trials() if t.number == failing)
    waiter = threading.Thread(target=finish_later, args=(optuna.trial.TrialState.FAIL,))
    waiter.start()
    assert session.should_stop() is False  # it failed: a trial is left for this worker
    waiter.join()

    _, stuck = reserve_trial(study, {"dropout": 0.3}, dist, {"worker": "another-machine:1"})
    stuck_id = next(t._trial_id for t in study.get_trials() if t.number == stuck)
    long_ago = datetime.now() - timedelta(hours=1)
    from sqlalchemy import create_engine, text

    with create_engine(url).begin() as connection:
        connection.execute(
            text("UPDATE trials SET datetime_start = :start WHERE trial_id = :id"),
            {"start": long_ago, "id": stuck_id},
        )
    started = time.monotonic()
    assert session.should_stop() is False and time.monotonic() - started < 0.5


def test_a_stop_in_a_trials_bookkeeping_is_recorded_as_interrupted_and_retried(url, iris, monkeypatch):
    """A Ctrl-C (a worker's stop) can land outside the training, while the trial's results are written:
    Optuna fails the trial as the interrupt passes, and automl records it as interrupted with its retry
    waiting, as it does for a stop inside the training."""
    import optuna

    from automl.engine._session import SearchSession

    original = SearchSession.trial_finished
    interrupted: list[int] = []

    def finished(self, record):
        if not interrupted:
            interrupted.append(record.number)
            raise KeyboardInterrupt
        return original(self, record)

    monkeypatch.setattr(SearchSession, "trial_finished", finished)
    with pytest.raises(KeyboardInterrupt):
        stub_search(url, iris, StubTrainer(), trials=2)
    trials = optuna.load_study(study_name=STUDY, storage=url).trials
    failed = [t for t in trials if t.state == optuna.trial.TrialState.FAIL]
    assert [t.number for t in failed] == interrupted
    assert failed[0].user_attrs["failure_kind"] == FailureKind.INTERRUPTED.value
    retries = [t for t in trials if t.system_attrs.get("failed_trial") == interrupted[0]]
    assert len(retries) == 1 and retries[0].state == optuna.trial.TrialState.WAITING
