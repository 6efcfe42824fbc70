"""Trial numbers and seeds come from the storage: two real processes sharing one SQLite file never collide."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import optuna
import pytest
from stub_search import STUDY, stub_space

from automl.backends import get_backend
from automl.engine import open_study
from automl.store import load_records, open_storage, reserve_trial, trial_seed

HERE = Path(__file__).parent


def _start(script: str, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(script), *args],
        cwd=HERE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait(processes: list[subprocess.Popen]) -> list[str]:
    outputs = []
    for process in processes:
        out, err = process.communicate(timeout=240)
        assert process.returncode == 0, err[-3000:]
        outputs.append(out)
    return outputs


def test_reserved_numbers_are_unique_across_two_processes(tmp_path):
    url = f"sqlite:///{tmp_path / 'automl.db'}"
    optuna.create_study(study_name="shared", storage=open_storage(url))
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
    outputs = _wait([_start(script, url), _start(script, url)])
    first, second = (json.loads(out) for out in outputs)
    assert sorted(first + second) == list(range(80))
    assert first == sorted(first) and second == sorted(second)


def test_reserved_trials_hold_their_params_and_finish_with_state(tmp_path):
    from optuna.distributions import FloatDistribution

    from automl.store import TrialState, finish_reserved_trial

    study = optuna.create_study(storage=open_storage(f"sqlite:///{tmp_path / 'a.db'}"), direction="maximize")
    trial_id, number = reserve_trial(
        study, {"dropout": 0.25}, {"dropout": FloatDistribution(0, 1)}, {"seed": 3}
    )
    running = study.get_trials()[0]
    assert (number, running.state, running.params, running.user_attrs) == (
        0, optuna.trial.TrialState.RUNNING, {"dropout": 0.25}, {"seed": 3},
    )  # fmt: skip
    finish_reserved_trial(
        study, trial_id, state=TrialState.COMPLETE, value=0.9, intermediate={1: 0.5, 2: 0.9},
        user_attrs={"epochs_run": 2},
    )  # fmt: skip
    done = study.get_trials()[0]
    assert done.state is optuna.trial.TrialState.COMPLETE and done.value == 0.9
    assert done.intermediate_values == {1: 0.5, 2: 0.9}
    assert done.user_attrs == {"seed": 3, "epochs_run": 2}


_WORKER = """
    import json, sys
    from automl.datasets import load_dataset
    from automl.testing import StubTrainer
    from stub_search import stub_search
    url, backend, algorithm, directory = sys.argv[1:5]
    options = {"directory": directory} if backend == "keras_tuner" else None
    result = stub_search(
        url, load_dataset("iris", seed=0), StubTrainer(seconds_per_epoch=0.02), trials=12,
        backend=backend, algorithm=algorithm, options=options, resume=True, local=False,
    )
    print(json.dumps(len(result.session.runner.trainer.calls)))
"""


@pytest.mark.parametrize(
    ("backend", "algorithm"),
    [("optuna", "random"), ("keras_tuner", "random")],
)
def test_two_worker_processes_share_one_study_without_collisions(tmp_path, iris, backend, algorithm):
    url = f"sqlite:///{tmp_path / 'automl.db'}"
    # The parent creates the storage and the study first: concurrent creation races on the schema.
    chosen = get_backend(backend)(algorithm=algorithm, seed=0)
    open_study(
        open_storage(url), STUDY, space=stub_space(), dataset=iris, metric="accuracy", direction="maximize",
        backend=chosen, seed=0, resume=False, local=True,
    )  # fmt: skip
    workers = [_start(_WORKER, url, backend, algorithm, str(tmp_path / f"kt{i}")) for i in (1, 2)]
    trained = [json.loads(out) for out in _wait(workers)]
    records = load_records(open_storage(url), STUDY)
    numbers = [r.number for r in records]
    seeds = [r.seed for r in records]
    assert numbers == list(range(len(records)))
    assert len(set(seeds)) == len(seeds) and seeds == [trial_seed(0, n) for n in numbers]
    assert all(n > 0 for n in trained), f"a worker trained nothing: {trained}"
    assert len({r.worker for r in records}) == 2
    finished = [r for r in records if r.state.finished]
    # Each worker checks the budget before it starts a trial: at most one in flight each past it.
    assert 12 <= len(finished) <= 12 + 2
    assert sum(trained) == len(records)
