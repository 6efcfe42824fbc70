"""Worker processes on CPU slots, for real: a shared study, a shared budget, recycling, a worker killed with
SIGKILL mid-trial, a failure streak across workers, Ctrl-C, and resume."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import optuna
import pytest
from small_space import space

from automl import AutoMLSearch
from automl.exceptions import FatalError
from automl.store import TrialState, process_alive, read_manifest, trial_seed


def workers_of(result) -> set[str]:
    return {r.worker for r in result.trials_ if r.worker}


def test_two_workers_share_one_study_and_its_budget(tmp_path):
    run = tmp_path / "run"
    result = AutoMLSearch(
        space=space(tmp_path), n_trials=6, devices=2, recycle_after=2, run_dir=run, heartbeat_interval=1,
        algorithm="random", pruner="none",
    ).fit("iris")  # fmt: skip
    finished = [r for r in result.trials_ if r.state.finished]
    # A worker waits for the trials others run before it starts one: only two starting in the same
    # instant can overshoot the budget, by one.
    assert 6 <= len(finished) <= 7
    numbers = [r.number for r in result.trials_]
    assert numbers == list(range(len(numbers)))
    assert [r.seed for r in result.trials_] == [trial_seed(0, n) for n in numbers]
    # Recycled every 2 trials: more processes than slots, each slot logged to its own file.
    assert len(workers_of(result)) >= 3
    assert {r.device for r in result.trials_} == {"cpu slot 0", "cpu slot 1"}
    logs = sorted(p.name for p in (run / "workers").glob("*.log"))
    assert logs == ["w0.log", "w1.log"]
    assert sum((run / "workers" / name).read_text().count("--- worker") for name in logs) >= 3
    # Workers propose apart: no config is tried twice by the random sampler.
    configs = [tuple(sorted(r.params.items())) for r in result.trials_]
    assert len(set(configs)) == len(configs)
    manifest = read_manifest(run)
    assert manifest.devices["workers"] == 2 and [s["threads"] for s in manifest.devices["slots"]] == [1, 1]
    # Each worker measured its own complete trials' footprint, beside the other worker.
    assert manifest.latency_measured.endswith("with 2 workers searching at once")
    assert all(r.size_bytes and r.latency_ms for r in result.trials_ if r.state is TrialState.COMPLETE)


def test_data_from_python_objects_reaches_the_workers(tmp_path):
    from sklearn.datasets import load_iris

    x, y = load_iris(return_X_y=True)
    result = AutoMLSearch(
        space=space(tmp_path, epochs=1), n_trials=3, devices=2, run_dir=tmp_path / "run", algorithm="random",
    ).fit((x, y))  # fmt: skip
    assert sum(r.state.finished for r in result.trials_) >= 3
    assert (tmp_path / "run" / "workers" / "dataset.joblib").exists()


def test_a_worker_killed_mid_trial_loses_only_that_trial(tmp_path):
    run = tmp_path / "run"
    storage = f"sqlite:///{run / 'automl.db'}"
    search = AutoMLSearch(
        space=space(tmp_path, epochs=30), n_trials=8, devices=2, run_dir=run, heartbeat_interval=1,
        algorithm="random", pruner="none",
    )  # fmt: skip
    outcome: dict = {}
    thread = _fit_in_thread(search, outcome)
    killed = _kill_mid_trial(storage, thread)
    thread.join(timeout=240)
    assert not thread.is_alive(), "the search did not end"
    assert "error" not in outcome, outcome.get("error")
    assert killed is not None, "no worker was caught mid-trial"
    records = {r.number: r for r in search.trials_}
    assert records[killed].state is TrialState.FAIL
    # Every other trial finished; the budget was still met, by a replacement among others.
    assert sum(r.state.finished for r in records.values()) >= 8
    assert [n for n, r in records.items() if r.state is TrialState.FAIL] == [killed]
    # The killed trial's config is retried once (enqueued; it may wait if the budget ended first).
    trials = optuna.load_study(study_name=search.study_name_, storage=storage).trials
    lost = next(t for t in trials if t.number == killed)
    assert [t.number for t in trials if t.number > killed and t.params == lost.params]
    assert (run / "workers").joinpath("w0.log").read_text().count("--- worker") + (run / "workers").joinpath(
        "w1.log"
    ).read_text().count("--- worker") >= 3


def test_a_failure_streak_counts_across_workers_and_keeps_finished_trials(tmp_path):
    import dataclasses

    import numpy as np

    from automl.datasets import load_dataset

    iris = load_dataset("iris", seed=0)
    poisoned = dataclasses.replace(iris, x_train=np.full_like(iris.x_train, np.nan))
    search = AutoMLSearch(
        space=space(tmp_path, epochs=1), n_trials=20, devices=2, run_dir=tmp_path / "run",
        max_consecutive_failures=3, algorithm="random",
    )  # fmt: skip
    with pytest.raises(FatalError, match="trials failed in a row"):
        search.fit(poisoned)
    failed = [r for r in search.trials_ if r.state is TrialState.FAIL]
    diverged = [r for r in failed if str(r.failure).startswith("nan_loss")]
    # Three in a row over the study stop it; the other worker may have had one in flight, which either
    # diverged too or was stopped mid-trial (and says so).
    assert 3 <= len(diverged) <= len(failed) <= 4
    assert all(str(r.failure).startswith("interrupted") for r in failed if r not in diverged), failed
    assert len(workers_of(search)) == 2


def test_ctrl_c_stops_every_worker_and_resume_continues(tmp_path):
    run = tmp_path / "run"
    command = [
        sys.executable, "-m", "automl", "search", "-d", "iris", "-s", space(tmp_path, epochs=20),
        "--trials", "400", "--workers", "2", "--run-dir", str(run), "--algorithm", "random", "-q",
    ]  # fmt: skip
    # A shell or CI runner may start us with SIGINT ignored, which children inherit: restore the default, as
    # under a user's terminal.
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )  # fmt: skip
    db = run / "automl.db"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        time.sleep(0.5)
        # The manifest is written after the storage's tables: opening the file earlier races the search
        # creating them (both would write SQLite's schema version).
        if (run / "run.yaml").exists():
            try:
                names = optuna.get_all_study_names(f"sqlite:///{db}")
                study = optuna.load_study(study_name=names[0], storage=f"sqlite:///{db}")
                if sum(t.state.is_finished() for t in study.trials) >= 2:
                    break
            except Exception:
                continue
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=90)
    assert process.returncode == 130, err[-2000:]
    assert "--resume" in err
    # No worker outlives the search.
    pids = {int(t.user_attrs["worker"].rsplit(":", 1)[1]) for t in study.trials if "worker" in t.user_attrs}
    time.sleep(0.5)
    assert not [pid for pid in pids if process_alive(pid)]
    before = optuna.load_study(study_name=names[0], storage=f"sqlite:///{db}").trials
    kept = [t.number for t in before if t.state == optuna.trial.TrialState.COMPLETE]
    assert len(kept) >= 2
    resumed = AutoMLSearch.load(run)
    resumed.n_trials = len(kept) + 2
    resumed.devices = 1
    resumed.fit("iris")
    after = {r.number: r for r in resumed.trials_}
    assert all(after[n].state is TrialState.COMPLETE for n in kept)
    assert sum(r.state.finished for r in after.values()) >= len(kept) + 2
    assert not [r for r in after.values() if r.state is TrialState.RUNNING]


def test_an_experiment_searches_each_study_with_every_worker(tmp_path):
    from automl import Experiment

    path = tmp_path / "exp.yaml"
    path.write_text(
        "version: 1\nname: pair\ndatasets: [iris, wine]\n"
        f"spaces: [{space(tmp_path, epochs=1)}]\n"
        "backend: {name: optuna, algorithm: random, pruner: none}\n"
        "budget: {trials: 3, per: dataset}\ndevices: {workers: 2, recycle_after: 5}\nretrain: false\n"
        "report: false\n"
    )
    experiment = Experiment.from_yaml(path, run_dir=tmp_path / "run").run()
    for name in experiment.studies_:
        records = optuna.load_study(
            study_name=name, storage=f"sqlite:///{tmp_path / 'run' / 'automl.db'}"
        ).trials
        finished = [t for t in records if t.state.is_finished() and t.state != optuna.trial.TrialState.FAIL]
        assert 3 <= len(finished) <= 4
        assert {t.user_attrs["device"] for t in records} == {"cpu slot 0", "cpu slot 1"}
    assert set(experiment.leaderboards_) == {"iris", "wine"}


def _fit_in_thread(search: AutoMLSearch, outcome: dict) -> threading.Thread:
    """``search.fit("iris")`` started on a thread; an exception lands in ``outcome["error"]``."""

    def fit():
        try:
            search.fit("iris")
        except BaseException as exc:  # reported by the test, on its own thread
            outcome["error"] = exc

    thread = threading.Thread(target=fit)
    thread.start()
    return thread


def _kill_mid_trial(storage: str, thread: threading.Thread, done_first: int = 2) -> int | None:
    """SIGKILL the worker of a running trial once ``done_first`` trials finished; its trial's number."""
    deadline = time.monotonic() + 120
    manifest = Path(storage[len("sqlite:///") :]).parent / "run.yaml"
    while time.monotonic() < deadline and thread.is_alive():
        time.sleep(0.2)
        if not manifest.exists():
            continue  # opening the storage before the search has would race it to create the tables
        try:
            study = optuna.load_study(study_name=optuna.get_all_study_names(storage)[0], storage=storage)
        except Exception:
            continue
        done = [t for t in study.trials if t.state.is_finished()]
        running = [
            t for t in study.trials if t.state == optuna.trial.TrialState.RUNNING and "worker" in t.user_attrs
        ]
        if len(done) >= done_first and running:
            victim = running[0]
            os.kill(int(victim.user_attrs["worker"].rsplit(":", 1)[1]), signal.SIGKILL)
            return victim.number
    return None


@pytest.mark.slow  # the Hyperband kill test below shares a search through the chief too
def test_keras_tuner_workers_share_one_search_through_its_chief(tmp_path):
    import json

    run = tmp_path / "run"
    result = AutoMLSearch(
        space=space(tmp_path), n_trials=6, devices=2, run_dir=run, backend="keras_tuner", algorithm="random",
    ).fit("iris")  # fmt: skip
    finished = [r for r in result.trials_ if r.state.finished]
    assert 6 <= len(finished) <= 7
    numbers = [r.number for r in result.trials_]
    assert numbers == list(range(len(numbers)))
    assert {r.device for r in result.trials_} == {"cpu slot 0", "cpu slot 1"}
    # One oracle proposed for both: KerasTuner's trial ids are unique, and its project (written by the
    # chief alone) holds every trial the workers ran.
    trials = optuna.load_study(study_name=result.study_name_, storage=f"sqlite:///{run / 'automl.db'}").trials
    ids = [t.user_attrs["keras_tuner_trial_id"] for t in trials]
    assert len(set(ids)) == len(ids)
    project = next((run / "keras_tuner").iterdir())
    oracle = json.loads((project / "oracle.json").read_text())
    assert set(oracle["end_order"]) == set(ids) and not oracle["ongoing_trials"]
    assert "listening on 127.0.0.1:" in (run / "workers" / "chief.log").read_text()


def test_a_keras_tuner_worker_killed_mid_trial_loses_only_that_trial(tmp_path):
    """Hyperband's next round waits for every trial of the round before it: the chief must end the dead
    worker's trial, or the search would wait until its timeout."""
    run = tmp_path / "run"
    storage = f"sqlite:///{run / 'automl.db'}"
    search = AutoMLSearch(
        space=space(tmp_path, epochs=9), n_trials=10, timeout=240, devices=2, run_dir=run,
        backend="keras_tuner", algorithm="hyperband",
    )  # fmt: skip
    outcome: dict = {}
    started = time.monotonic()
    thread = _fit_in_thread(search, outcome)
    killed = _kill_mid_trial(storage, thread)
    thread.join(timeout=300)
    assert not thread.is_alive(), "the search did not end"
    assert "error" not in outcome, outcome.get("error")
    assert killed is not None, "no worker was caught mid-trial"
    assert time.monotonic() - started < 200, "the search waited for the dead worker's trial"
    records = {r.number: r for r in search.trials_}
    assert records[killed].state is TrialState.FAIL
    assert records[killed].failure == "worker died: signal 9"
    assert [n for n, r in records.items() if r.state is TrialState.FAIL] == [killed]
    assert sum(r.state.finished for r in records.values()) >= 10
    assert "ended as failed: worker died: signal 9" in (run / "workers" / "chief.log").read_text()


def test_an_experiments_workers_share_one_deadline_counted_from_the_call(tmp_path):
    """An experiment's clock starts at ``run()`` as a search's does at ``fit()``: the deadline its workers
    get (recorded in the study for machines that join) is the call's start plus the timeout, and the run
    ends within a search's tolerance of it."""
    import datetime

    from automl import Experiment
    from automl.workers import read_window

    timeout = 15
    path = tmp_path / "exp.yaml"
    path.write_text(
        "version: 1\nname: timed\ndatasets: [iris]\n"
        f"spaces: [{space(tmp_path, epochs=1)}]\n"
        "backend: {name: optuna, algorithm: random, pruner: none}\n"
        f"budget: {{timeout: {timeout}, per: total}}\ndevices: {{workers: 2}}\nretrain: false\nreport: false\n"
    )
    experiment = Experiment.from_yaml(path, run_dir=tmp_path / "run")
    called, called_at = time.time(), datetime.datetime.now()
    experiment.run()
    elapsed = time.time() - called
    storage = f"sqlite:///{tmp_path / 'run' / 'automl.db'}"
    [name] = experiment.studies_
    study = optuna.load_study(study_name=name, storage=storage)
    window = read_window(study)
    assert window is not None and window.deadline is not None
    assert called + timeout <= window.deadline <= called + timeout + 0.5  # set-up spent from the budget
    trials = study.trials
    assert trials and {t.user_attrs["device"] for t in trials} <= {"cpu slot 0", "cpu slot 1"}
    deadline = called_at + datetime.timedelta(seconds=timeout + 0.5)
    assert all(t.datetime_start <= deadline for t in trials), "a trial started after the deadline"
    # As a search: the workers stop at their first epoch end past the deadline (one-epoch trials here).
    assert elapsed <= timeout + 10, f"the experiment ran {elapsed:.1f} s on a {timeout} s budget"
