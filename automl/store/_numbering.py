"""Trial numbers and seeds, assigned by the storage.

Several processes may search one study (workers on one machine, or on several sharing PostgreSQL). A
number guessed from ``len(study.get_trials())`` before training is taken by whichever process writes
first, so two trials would share a number and, since a trial's seed derives from its number, a seed. The
storage assigns numbers under a row lock on the study (Optuna's ``create_new_trial``), so a trial is
created in the store *before* it trains and its number is read back from there.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from automl.store._records import TrialState, _json_safe

if TYPE_CHECKING:
    import optuna

__all__ = ["finish_reserved_trial", "reserve_trial", "trial_seed"]


def trial_seed(base_seed: int, number: int) -> int:
    """The seed of trial ``number``: unique per trial because the storage makes numbers unique."""
    return base_seed + number


def reserve_trial(
    study: optuna.Study,
    params: dict[str, Any],
    distributions: dict[str, Any],
    user_attrs: dict[str, Any] | None = None,
) -> tuple[int, int]:
    """Create a RUNNING trial with ``params`` in ``study``; returns ``(trial_id, number)``.

    The number comes from the storage's own counter, taken under a lock, so no other process can get it.
    """
    import optuna

    template = optuna.trial.FrozenTrial(
        number=-1,  # replaced by the storage
        state=optuna.trial.TrialState.RUNNING,
        value=None,
        values=None,
        datetime_start=datetime.now(),
        datetime_complete=None,
        params=dict(params),
        distributions=dict(distributions),
        user_attrs={key: _json_safe(value) for key, value in (user_attrs or {}).items()},
        system_attrs={},
        intermediate_values={},
        trial_id=-1,
    )
    # Optuna has no public call that creates a RUNNING trial with given params and returns its number;
    # the storage API (create_new_trial with a template) is stable across versions and is what
    # Study.add_trial itself uses.
    storage = study._storage
    trial_id = storage.create_new_trial(study._study_id, template_trial=template)
    return trial_id, storage.get_trial_number_from_id(trial_id)


def finish_reserved_trial(
    study: optuna.Study,
    trial_id: int,
    *,
    state: TrialState,
    value: float | None,
    intermediate: dict[int, float],
    user_attrs: dict[str, Any],
) -> None:
    """Write a reserved trial's outcome; its state is set last, so a reader never sees a half-written one."""
    import optuna

    storage = study._storage
    for step, score in intermediate.items():
        storage.set_trial_intermediate_value(trial_id, step, score)
    for key, attr in user_attrs.items():
        storage.set_trial_user_attr(trial_id, key, _json_safe(attr))
    optuna_state = {
        TrialState.COMPLETE: optuna.trial.TrialState.COMPLETE,
        TrialState.PRUNED: optuna.trial.TrialState.PRUNED,
    }.get(state, optuna.trial.TrialState.FAIL)
    values = [value] if optuna_state is optuna.trial.TrialState.COMPLETE and value is not None else None
    if optuna_state is optuna.trial.TrialState.COMPLETE and values is None:
        optuna_state = optuna.trial.TrialState.FAIL
    storage.set_trial_state_values(trial_id, optuna_state, values)
