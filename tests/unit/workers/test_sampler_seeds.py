"""Parallel workers seed their samplers apart, on one machine and across the machines that join a search:
seeded alike they would propose the same configs, each a repeat that trains nothing and spends a trial."""

from __future__ import annotations

import optuna
import pytest

from automl.backends import get_backend
from automl.engine import Budget, WorkerSpec
from automl.workers._join import joining_machine
from automl.workers._worker import sampler_seed


def first_proposals(seed: int, n: int = 6) -> list[dict]:
    """The first ``n`` configs the random sampler of automl's Optuna backend seeded ``seed`` proposes."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    backend = get_backend("optuna")(algorithm="random", seed=seed)
    study = optuna.create_study(sampler=backend.sampler(n))
    proposals = []
    for _ in range(n):
        trial = study.ask()
        proposals.append(
            {
                "lr": trial.suggest_float("lr", 1e-4, 1e-1, log=True),
                "units": trial.suggest_int("units", 8, 512),
            }
        )
        study.tell(trial, 0.5)
    return proposals


def test_a_joining_machine_has_a_number_of_its_own_never_the_first_machines():
    numbers = {joining_machine(host, pid) for host in ("gpu-a", "gpu-b", "gpu-c") for pid in (100, 101, 4242)}
    assert len(numbers) == 9 and 0 not in numbers
    assert joining_machine("gpu-a", 100) == joining_machine("gpu-a", 100)
    assert joining_machine() == joining_machine()  # this process, asked twice


def test_worker_one_of_a_joined_machine_proposes_other_configs_than_worker_one_here():
    here = sampler_seed(0, 1)
    joined = sampler_seed(0, 1, joining_machine("gpu-b", 100))
    assert len({here, joined, sampler_seed(0, 2), sampler_seed(0, 1, joining_machine("gpu-c", 100))}) == 4
    assert first_proposals(here) == first_proposals(here)  # one seed: one sequence
    shared = [p for p in first_proposals(here) if p in first_proposals(joined)]
    assert shared == []


@pytest.mark.parametrize("machine", [0, 123_456])
def test_the_machine_travels_to_the_worker_in_its_spec(machine):
    spec = WorkerSpec.of(
        Budget(trials=4), storage="sqlite:///x.db", study="s", slot={"worker": 2}, machine=machine
    )
    assert WorkerSpec.from_json(spec.to_json()).machine == machine


def test_a_resumed_study_of_many_trials_still_seeds_its_sampler():
    # the resume moves the seed by a prime per trial held: past 41,000 trials that left NumPy's range
    backend = get_backend("optuna")(algorithm="random", seed=3)
    sampler = backend.sampler(None, history=50_000)
    study = optuna.create_study(sampler=sampler)
    assert 0.0 <= study.ask().suggest_float("x", 0.0, 1.0) <= 1.0
