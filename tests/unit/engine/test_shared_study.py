"""Workers across processes on one study, in a SQLite file and on a PostgreSQL server: unique numbers and
seeds, a killed worker loses only its trial, and a server's password stays out of every file, log and
manifest.

Each test gets a fresh storage (``storage_url``: a SQLite file, and a PostgreSQL database marked
``postgres``; or ``postgres_url`` alone, see tests/conftest.py); the trainer is the stub, so the real
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
import time
import types
from pathlib import Path

import optuna
import pytest
from processes import start_script, wait_clean
from sqlalchemy.engine import make_url
from stub_search import STUDY, stub_space

from automl.backends import get_backend
from automl.engine import open_study
from automl.outcomes import FailureKind
from automl.store import load_records, open_storage, trial_seed

HERE = Path(__file__).parent


@pytest.fixture(scope="module", autouse=True)
def _collect_garbage_afterwards():
    """These tests leave many storages (SQLAlchemy engines, pools) behind: collect them here, or the full
    collection they add lands later, in a timed test (~0.4 s in the whole suite, with TensorFlow loaded)."""
    yield
    gc.collect()


def _start(script: str, *args: str) -> subprocess.Popen:
    return start_script(script, *args, cwd=HERE)


def _create(
    url: str,
    iris,
    *,
    backend: str = "optuna",
    algorithm: str = "random",
    heartbeat_interval: int | None = None,
) -> optuna.storages.BaseStorage:
    """The parent creates schema and study before any worker starts (concurrent creation races)."""
    storage = open_storage(url, heartbeat_interval=heartbeat_interval, grace_period=2)
    open_study(
        storage, STUDY, space=stub_space(), dataset=iris, metric="accuracy", direction="maximize",
        backend=get_backend(backend)(algorithm=algorithm, seed=0), seed=0, resume=False, local=False,
    )  # fmt: skip
    return storage


# A worker: joins the study the parent created (as automl's workers do: resume, not local, no prepare),
# on a storage with 1 s heartbeats, and searches it with the stub trainer. The trainer sleeps `seconds`
# per epoch; from trial `slow_from` on (this process's count) it sleeps a minute instead. `pruner`: median
# compares with finished trials' per-epoch scores in the storage; none writes a trial's scores once, at
# its end. `directory`: the KerasTuner project folder, one per worker.
_WORKER = """
    import json, sys
    from automl.backends import get_backend
    from automl.datasets import load_dataset
    from automl.engine import Budget, open_study, run_session
    from automl.store import open_storage
    from automl.testing import StubTrainer
    from stub_search import STUDY, stub_space

    url, backend_name, algorithm, pruner, directory = sys.argv[1:6]
    trials, seconds, slow_from = int(sys.argv[6]), float(sys.argv[7]), int(sys.argv[8])

    class Trainer(StubTrainer):
        def __call__(self, config, dataset, **kwargs):
            if len(self.calls) >= slow_from:
                self.seconds_per_epoch = 60.0
            return super().__call__(config, dataset, **kwargs)

    iris, space = load_dataset("iris", seed=0), stub_space()
    options = {"directory": directory} if backend_name == "keras_tuner" else None
    backend = get_backend(backend_name)(algorithm=algorithm, pruner=pruner, seed=0, options=options)
    storage = open_storage(url, heartbeat_interval=1, grace_period=2)
    study, info = open_study(
        storage, STUDY, space=space, dataset=iris, metric="accuracy", direction="maximize",
        backend=backend, seed=0, resume=True, local=False, prepare=False,
    )
    trainer = Trainer(seconds_per_epoch=seconds)
    run_session(backend, study, info, space, iris, Budget(trials=trials), seed=0, trainer=trainer, device="stub")
    print(json.dumps(len(trainer.calls)))
"""


def _worker(url: str, *, backend="optuna", algorithm="random", pruner="none", directory=".", trials=12,
            seconds=0.02, slow_from=1000) -> subprocess.Popen:  # fmt: skip
    """Start :data:`_WORKER` on ``url`` (arguments as there)."""
    args = (backend, algorithm, pruner, directory, trials, seconds, slow_from)
    return _start(_WORKER, url, *map(str, args))


@pytest.mark.parametrize(
    ("backend", "algorithm", "pruner"),
    [("optuna", "random", "median"), ("keras_tuner", "random", "none")],
)
def test_two_workers_share_one_study_without_collisions(
    storage_url, iris, tmp_path, backend, algorithm, pruner
):
    storage = _create(storage_url, iris, backend=backend, algorithm=algorithm)
    workers = [
        _worker(
            storage_url, backend=backend, algorithm=algorithm, pruner=pruner, directory=tmp_path / f"kt{i}"
        )
        for i in (1, 2)
    ]
    trained = [json.loads(out.splitlines()[-1]) for out in wait_clean(workers, storage_url)]
    records = load_records(storage, STUDY)
    numbers = [r.number for r in records]
    assert numbers == list(range(len(records)))
    # Each trial trains with its own number's seed; a repeat (two stand-alone KerasTuner oracles of one
    # seed propose alike) trains nothing and carries the seed its reused result was trained with.
    trained_here = [r for r in records if r.repeat_of is None]
    assert [r.seed for r in trained_here] == [trial_seed(0, r.number) for r in trained_here]
    assert all(r.seed == trial_seed(0, r.repeat_of) for r in records if r.repeat_of is not None)
    # Both recorded trials. Two stand-alone KerasTuner oracles of one seed propose the same configs, so the
    # slower worker may find every one finished by the other: it records repeats and trains nothing.
    assert len({r.worker for r in records}) == 2
    if backend == "optuna":
        assert all(n > 0 for n in trained), f"a worker trained nothing: {trained}"
    # A worker waits for the trials others run before it starts one: only two starting in the same
    # instant can overshoot the budget, by one.
    assert 12 <= len([r for r in records if r.state.finished]) <= 12 + 2
    assert sum(trained) == len(trained_here)
    # every trial's per-epoch scores are in the storage: all three epochs, or those before it was pruned
    # (with the median pruner, which read the other worker's scores from the storage while trials ran)
    study = optuna.load_study(study_name=STUDY, storage=storage)
    for trial in study.trials:
        assert sorted(trial.intermediate_values) == list(range(1, len(trial.intermediate_values) + 1))
        expected = {3} if trial.state.name == "COMPLETE" else {1, 2, 3}  # pruned after an epoch
        assert len(trial.intermediate_values) in expected, trial


def test_a_killed_worker_loses_only_its_trial_which_the_heartbeat_fails(storage_url, iris):
    storage = _create(storage_url, iris, heartbeat_interval=1)
    # The first worker finishes two trials, then hangs in its third, and is killed there.
    doomed = _worker(storage_url, trials=6, slow_from=2)
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
    wait_clean([_worker(storage_url, trials=6)], storage_url)

    records = load_records(storage, STUDY)
    by_number = {r.number: r for r in records}
    assert [by_number[n].state.value for n in (0, 1)] == ["complete", "complete"]
    assert by_number[killed.number].state.value == "fail"
    # failed by the heartbeat check (a process gone silent), not by the dead-process one (interrupted)
    assert by_number[killed.number].failure_kind is FailureKind.STALE_HEARTBEAT
    study = optuna.load_study(study_name=STUDY, storage=storage)
    retried = [t for t in study.trials if t.system_attrs.get("failed_trial") == killed.number]
    assert len(retried) == 1 and retried[0].params == killed.params
    assert retried[0].state is optuna.trial.TrialState.COMPLETE
    assert len([r for r in records if r.state.finished]) == 6
    assert [r.number for r in records] == list(range(len(records)))
    # Unique seeds: the retry goes on as the trial it retries, with that trial's seed (the killed trial
    # recorded none: a trial writes its record when it ends).
    finished = [r for r in records if r.state.finished]
    assert len({r.seed for r in finished}) == len(finished)
    assert by_number[retried[0].number].seed == trial_seed(0, killed.number)


def _module_calling_run_session() -> types.ModuleType:
    """The module whose ``run_session`` an in-process :class:`AutoMLSearch` calls (to stub its trainer).

    The one private import of these tests: ``automl.workers._launch`` once the search launches its
    sessions from the ``automl.workers`` package, ``automl.search`` before.
    """
    import importlib

    for name in ("automl.workers._launch", "automl.search"):
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        if hasattr(module, "run_session"):
            return module
    raise AssertionError("no module calls run_session for AutoMLSearch: update this helper")


@pytest.mark.postgres
def test_the_password_stays_out_of_files_logs_and_the_manifest(postgres_url, tmp_path, monkeypatch, caplog):
    from automl import AutoMLSearch
    from automl.store import manifest_from_storage
    from automl.testing import StubTrainer

    password = make_url(postgres_url).password
    assert password
    caller = _module_calling_run_session()
    real = caller.run_session

    def stub_session(*args, **kwargs):
        return real(*args, **{**kwargs, "trainer": StubTrainer(), "device": "stub"})

    monkeypatch.setattr(caller, "run_session", stub_session)
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


@pytest.mark.parametrize("pruner", ["none", "median"])
def test_a_trial_writes_its_epochs_once_without_a_pruner_and_per_epoch_with_one(storage_url, iris, pruner):
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
            storage_url, iris, StubTrainer(), trials=4, space=stub_space(epochs=6), pruner=pruner,
            options={"pruner_startup_trials": 10} if pruner == "median" else None,
        )  # fmt: skip
    assert [r.state.value for r in result.records] == ["complete"] * 4
    study = optuna.load_study(study_name=STUDY, storage=open_storage(storage_url))
    assert all(sorted(t.intermediate_values) == [1, 2, 3, 4, 5, 6] for t in study.trials)
    assert all(
        len(r.history["val_accuracy"]) == 6 and r.worker and r.seed is not None for r in result.records
    )
    inserts = [
        s for s in statements if s.lstrip().upper().startswith("INSERT INTO TRIAL_INTERMEDIATE_VALUES")
    ]
    attrs = [s for s in statements if s.lstrip().upper().startswith("INSERT INTO TRIAL_USER_ATTRIBUTES")]
    assert len(inserts) == (4 if pruner == "none" else 4 * 6)
    assert len(attrs) == 4 * 2  # its process and device when a trial starts, then the record: one each
