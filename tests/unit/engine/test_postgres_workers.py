"""Workers across processes on a real PostgreSQL study: unique numbers and seeds, a killed worker loses only
its trial, and the password stays out of every file, log and manifest.

Each test gets a fresh database (``postgres_url``, tests/conftest.py); the trainer is the stub, so the real
engine, backend and storage run without TensorFlow.
"""

from __future__ import annotations

import gc
import json
import logging
import os
import signal
import subprocess
import sys
import textwrap
import time
import types
from pathlib import Path

import optuna
import pytest
from sqlalchemy.engine import make_url
from stub_search import STUDY, stub_space

from automl.backends import get_backend
from automl.engine import open_study
from automl.store import load_records, open_storage, reserve_trial, trial_seed

pytestmark = pytest.mark.postgres

HERE = Path(__file__).parent


@pytest.fixture(scope="module", autouse=True)
def _collect_garbage_afterwards():
    """These tests leave many storages (SQLAlchemy engines, pools) behind: collect them here, or the full
    collection they add lands later, in a timed test (~0.4 s in the whole suite, with TensorFlow loaded)."""
    yield
    gc.collect()


def _start(script: str, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(script), *args],
        cwd=HERE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait(processes: list[subprocess.Popen], secret: str | None = None) -> list[str]:
    """Each process's stdout, once it exited cleanly; ``secret`` (the password) appears in no output."""
    outputs = []
    for process in processes:
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0, err[-3000:]
        if secret:
            assert secret not in out and secret not in err
        outputs.append(out)
    return outputs


def _password(url: str) -> str:
    password = make_url(url).password
    assert password, "the test server's URL has no password: password handling would go untested"
    return password


def _create(url: str, iris, *, heartbeat_interval: int | None = None) -> optuna.storages.BaseStorage:
    """The parent creates schema and study before any worker starts (concurrent creation races)."""
    storage = open_storage(url, heartbeat_interval=heartbeat_interval, grace_period=2)
    open_study(
        storage, STUDY, space=stub_space(), dataset=iris, metric="accuracy", direction="maximize",
        backend=get_backend("optuna")(algorithm="random", seed=0), seed=0, resume=False, local=False,
    )  # fmt: skip
    return storage


def test_reserved_numbers_are_unique_across_two_processes(postgres_url):
    optuna.create_study(study_name="shared", storage=open_storage(postgres_url))
    script = """
        import json, sys
        import optuna
        from optuna.distributions import FloatDistribution
        from automl.store import open_storage, reserve_trial
        study = optuna.load_study(study_name="shared", storage=open_storage(sys.argv[1]))
        numbers = [reserve_trial(study, {"dropout": 0.1}, {"dropout": FloatDistribution(0, 1)})[1]
                   for _ in range(40)]
        print(json.dumps(numbers))
    """
    first, second = (
        json.loads(out)
        for out in _wait([_start(script, postgres_url) for _ in range(2)], _password(postgres_url))
    )
    assert sorted(first + second) == list(range(80))
    assert first == sorted(first) and second == sorted(second)


# A worker: the stub search of stub_search.py, on a storage with 1 s heartbeats. The trainer sleeps
# `seconds` per epoch; from trial `slow_from` on (this process's count) it sleeps a minute instead.
# `pruner`: median compares with finished trials' per-epoch scores in the server; none writes a trial's
# scores once, at its end.
_WORKER = """
    import json, sys, types
    # run_session imports automl._keras (TensorFlow, ~6 s) even when given a device; the stub needs none.
    sys.modules["automl._keras"] = types.SimpleNamespace(configure_process=lambda: "stub")
    from automl.backends import get_backend
    from automl.datasets import load_dataset
    from automl.engine import Budget, open_study, run_session
    from automl.store import open_storage
    from automl.testing import StubTrainer
    from stub_search import STUDY, stub_space

    url, trials, seconds, slow_from, pruner = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]), sys.argv[5]

    class Trainer(StubTrainer):
        def __call__(self, config, dataset, **kwargs):
            if len(self.calls) >= slow_from:
                self.seconds_per_epoch = 60.0
            return super().__call__(config, dataset, **kwargs)

    iris, space = load_dataset("iris", seed=0), stub_space()
    backend = get_backend("optuna")(algorithm="random", pruner=pruner, seed=0)
    storage = open_storage(url, heartbeat_interval=1, grace_period=2)
    study, info = open_study(
        storage, STUDY, space=space, dataset=iris, metric="accuracy", direction="maximize",
        backend=backend, seed=0, resume=True, local=False, prepare=False,
    )
    trainer = Trainer(seconds_per_epoch=seconds)
    run_session(backend, study, info, space, iris, Budget(trials=trials), seed=0, trainer=trainer, device="stub")
    print(json.dumps(len(trainer.calls)))
"""


def test_two_optuna_workers_share_one_study_without_collisions(postgres_url, iris):
    storage = _create(postgres_url, iris)
    workers = [_start(_WORKER, postgres_url, "12", "0.02", "1000", "median") for _ in range(2)]
    trained = [json.loads(out.splitlines()[-1]) for out in _wait(workers, _password(postgres_url))]
    records = load_records(storage, STUDY)
    numbers = [r.number for r in records]
    seeds = [r.seed for r in records]
    assert numbers == list(range(len(records)))
    assert len(set(seeds)) == len(seeds) and seeds == [trial_seed(0, n) for n in numbers]
    assert all(n > 0 for n in trained), f"a worker trained nothing: {trained}"
    assert len({r.worker for r in records}) == 2
    # Each worker checks the budget before it starts a trial: at most one in flight each past it.
    assert 12 <= len([r for r in records if r.state.finished]) <= 12 + 2
    assert sum(trained) == len(records)
    # the median pruner read the others' per-epoch scores from the server while trials ran
    study = optuna.load_study(study_name=STUDY, storage=storage)
    for trial in study.trials:
        assert sorted(trial.intermediate_values) == list(range(1, len(trial.intermediate_values) + 1))
        expected = {3} if trial.state.name == "COMPLETE" else {1, 2, 3}  # pruned after an epoch
        assert len(trial.intermediate_values) in expected, trial


def test_a_killed_worker_loses_only_its_trial_which_the_heartbeat_fails(postgres_url, iris):
    storage = _create(postgres_url, iris, heartbeat_interval=1)
    # The first worker finishes two trials, then hangs in its third, and is killed there.
    doomed = _start(_WORKER, postgres_url, "6", "0.02", "2", "none")
    try:
        deadline = time.monotonic() + 60
        while True:
            running = [r for r in load_records(storage, STUDY) if r.state.value == "running"]
            if running and running[0].number == 2 and "batch_size" in running[0].params:
                break
            assert doomed.poll() is None, doomed.communicate()[1][-3000:]
            assert time.monotonic() < deadline, "the first worker never started its third trial"
            time.sleep(0.2)
        time.sleep(1.5)  # past at least one heartbeat of the trial
    finally:
        os.kill(doomed.pid, signal.SIGKILL)
        doomed.communicate()
    killed = running[0]
    time.sleep(2.5)  # the grace period (2 s) passes without a heartbeat
    # The second worker finds the silent trial, fails it (Optuna's heartbeat check) and retries its config.
    _wait([_start(_WORKER, postgres_url, "6", "0.02", "1000", "none")], _password(postgres_url))

    records = load_records(storage, STUDY)
    by_number = {r.number: r for r in records}
    assert [by_number[n].state.value for n in (0, 1)] == ["complete", "complete"]
    assert by_number[killed.number].state.value == "fail"
    # failed by the heartbeat, not by automl's dead-process check (which records a `failure` reason)
    assert by_number[killed.number].failure is None
    study = optuna.load_study(study_name=STUDY, storage=storage)
    retried = [t for t in study.trials if t.system_attrs.get("failed_trial") == killed.number]
    assert len(retried) == 1 and retried[0].params == killed.params
    assert retried[0].state is optuna.trial.TrialState.COMPLETE
    assert len([r for r in records if r.state.finished]) == 6
    assert [r.number for r in records] == list(range(len(records)))
    assert len({r.seed for r in records}) == len(records)


def test_the_password_stays_out_of_files_logs_and_the_manifest(postgres_url, tmp_path, monkeypatch, caplog):
    import automl.search
    from automl import AutoMLSearch
    from automl.store import manifest_from_storage
    from automl.testing import StubTrainer

    password = make_url(postgres_url).password
    assert password
    real = automl.search.run_session

    def stub_session(*args, **kwargs):
        return real(*args, **{**kwargs, "trainer": StubTrainer(), "device": "stub"})

    monkeypatch.setattr(automl.search, "run_session", stub_session)
    if "automl._keras" not in sys.modules:  # run_session imports it (TensorFlow) even when given a device
        monkeypatch.setitem(
            sys.modules, "automl._keras", types.SimpleNamespace(configure_process=lambda: "stub")
        )
    caplog.set_level(logging.DEBUG)
    search = AutoMLSearch(
        space=stub_space(), backend="optuna", algorithm="random", n_trials=3, storage=postgres_url,
        run_dir=tmp_path / "run", devices=1, heartbeat_interval=1,
    )  # fmt: skip
    search.fit("iris")
    assert len(search.trials_) == 3

    manifest = manifest_from_storage(postgres_url)
    assert manifest.storage == postgres_url.replace(password, "***")
    assert password not in json.dumps(manifest.to_dict())
    study = optuna.load_study(study_name=search.study_name_, storage=open_storage(postgres_url))
    assert password not in json.dumps(study.user_attrs, default=str)
    files = [path for path in (tmp_path / "run").rglob("*") if path.is_file()]
    assert {"run.yaml", "automl.log"} <= {path.name for path in files}
    for path in files:
        assert password.encode() not in path.read_bytes(), path
    assert password not in caplog.text

    # a worker elsewhere reads the masked URL from run.yaml and the real one from AUTOML_STORAGE
    monkeypatch.setenv("AUTOML_STORAGE", postgres_url)
    assert len(load_records(open_storage(manifest.storage), search.study_name_)) == 3


def test_a_running_trial_is_visible_to_other_processes_before_it_ends(postgres_url, iris):
    """A reserved trial is a row in the server at once: another connection sees it RUNNING, numbered."""
    from optuna.distributions import FloatDistribution

    study = optuna.create_study(study_name="seen", storage=open_storage(postgres_url))
    _, number = reserve_trial(study, {"dropout": 0.3}, {"dropout": FloatDistribution(0, 1)})
    other = optuna.load_study(study_name="seen", storage=open_storage(postgres_url, heartbeat_interval=None))
    (trial,) = other.get_trials(deepcopy=False)
    assert (trial.number, trial.state, trial.params) == (
        number,
        optuna.trial.TrialState.RUNNING,
        {"dropout": 0.3},
    )


@pytest.mark.parametrize("pruner", ["none", "median"])
def test_a_trial_writes_its_epochs_once_without_a_pruner_and_per_epoch_with_one(postgres_url, iris, pruner):
    """Without a pruner nothing reads a running trial's per-epoch scores, so they are written with its
    record, in one statement; a pruner gets them per epoch. Readers see the same trials either way."""
    from sqlalchemy import event
    from stub_search import stub_search

    from automl.testing import StubTrainer

    statements: list[str] = []
    storages = []
    real_open = open_storage

    def counting_open(url, **kwargs):
        storage = real_open(url, **kwargs)
        event.listen(storage.engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
        storages.append(storage)
        return storage

    import stub_search as module

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(module, "open_storage", counting_open)
        result = stub_search(
            postgres_url, iris, StubTrainer(), trials=4, space=stub_space(epochs=6), pruner=pruner,
            options={"pruner_startup_trials": 10} if pruner == "median" else None,
        )  # fmt: skip
    assert [r.state.value for r in result.records] == ["complete"] * 4
    study = optuna.load_study(study_name=STUDY, storage=open_storage(postgres_url))
    assert all(sorted(t.intermediate_values) == [1, 2, 3, 4, 5, 6] for t in study.trials)
    assert all(
        len(r.history["val_accuracy"]) == 6 and r.worker and r.seed is not None for r in result.records
    )
    inserts = [
        s for s in statements if s.lstrip().upper().startswith("INSERT INTO TRIAL_INTERMEDIATE_VALUES")
    ]
    attrs = [s for s in statements if s.lstrip().upper().startswith("INSERT INTO TRIAL_USER_ATTRIBUTES")]
    assert len(inserts) == (4 if pruner == "none" else 4 * 6)
    assert len(attrs) == 4 * 2  # the worker when a trial starts, then the record in one statement
