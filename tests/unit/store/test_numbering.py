"""Trial numbers and seeds come from the storage: processes sharing one study never collide.

Every test runs on both storages (``storage_url``, tests/conftest.py): a SQLite file, and a fresh
PostgreSQL database (marked ``postgres``, skipped without a server).
"""

from __future__ import annotations

import json
import math

import optuna
import pytest
from optuna.distributions import FloatDistribution
from processes import start_script, wait_clean

from automl.store import TrialState, finish_reserved_trial, open_storage, reserve_trial, write_trial_results


def test_reserved_numbers_are_unique_across_two_processes(storage_url):
    optuna.create_study(study_name="shared", storage=open_storage(storage_url))
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
    outputs = wait_clean([start_script(script, storage_url) for _ in range(2)], storage_url)
    first, second = (json.loads(out) for out in outputs)
    assert sorted(first + second) == list(range(80))
    assert first == sorted(first) and second == sorted(second)


def test_reserved_trials_hold_their_params_and_finish_with_state(storage_url):
    study = optuna.create_study(storage=open_storage(storage_url), direction="maximize")
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


def test_a_running_trial_is_visible_to_other_processes_before_it_ends(storage_url):
    """A reserved trial is a row in the storage at once: another connection sees it RUNNING, numbered."""
    study = optuna.create_study(study_name="seen", storage=open_storage(storage_url))
    _, number = reserve_trial(study, {"dropout": 0.3}, {"dropout": FloatDistribution(0, 1)})
    other = optuna.load_study(study_name="seen", storage=open_storage(storage_url, heartbeat_interval=None))
    (trial,) = other.get_trials(deepcopy=False)
    assert (trial.number, trial.state, trial.params) == (
        number,
        optuna.trial.TrialState.RUNNING,
        {"dropout": 0.3},
    )


# --------------------------------------------------------------------------------- batched writes
def test_batched_results_read_back_as_optunas_own_setters_write_them(storage_url):
    import numpy as np

    study = optuna.create_study(storage=open_storage(storage_url, heartbeat_interval=None))
    one, batched = study.ask(), study.ask()
    values = {1: 0.5, 2: float("nan"), 3: float("inf"), 4: -float("inf"), 5: 0.25}
    attrs = {
        "history": {"val_accuracy": [0.5, None]},
        "seed": np.int64(3),
        "fit_seconds": 1.5,
        "device": "cpu",
    }
    for step, value in values.items():
        one.report(value, step)
    for key, value in {**attrs, "seed": 3}.items():
        one.set_user_attr(key, value)
    write_trial_results(study._storage, batched._trial_id, intermediate=values, user_attrs=attrs)
    # a second write updates in place, as Optuna's setters do
    write_trial_results(
        study._storage, batched._trial_id, intermediate={5: 0.25}, user_attrs={"device": "cpu"}
    )
    study.tell(one, 1.0)
    study.tell(batched, 1.0)

    first, second = optuna.load_study(study_name=study.study_name, storage=open_storage(storage_url)).trials
    assert second.user_attrs == first.user_attrs == {**attrs, "seed": 3}

    def same(value):
        return "nan" if math.isnan(value) else value

    assert {k: same(v) for k, v in second.intermediate_values.items()} == {
        k: same(v) for k, v in first.intermediate_values.items()
    }
    assert sorted(second.intermediate_values) == [1, 2, 3, 4, 5]


def test_batched_results_refuse_a_finished_trial(storage_url):
    study = optuna.create_study(storage=open_storage(storage_url, heartbeat_interval=None))
    trial = study.ask()
    study.tell(trial, state=optuna.trial.TrialState.FAIL)
    with pytest.raises(optuna.exceptions.UpdateFinishedTrialError):
        write_trial_results(study._storage, trial._trial_id, intermediate={1: 0.5}, user_attrs={})
    assert study.trials[0].intermediate_values == {}
