"""Trial numbers and seeds, assigned by the storage.

Several processes may search one study (workers on one machine, or on several sharing PostgreSQL). A
number guessed from ``len(study.get_trials())`` before training is taken by whichever process writes
first, so two trials would share a number and, since a trial's seed derives from its number, a seed. The
storage assigns numbers under a row lock on the study (Optuna's ``create_new_trial``), so a trial is
created in the store *before* it trains and its number is read back from there.

A trial's results (per-epoch values, user attributes) are written in one transaction with one statement
per table (:func:`write_trial_results`): Optuna's storage API writes one value per call, each its own
transaction (a commit, an fsync), which made those writes most of a short trial's time on SQLite and of
the server's work on PostgreSQL (``benchmarks/storage_scaling.py``).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from automl.store._records import TrialState, _json_safe

if TYPE_CHECKING:
    import optuna

__all__ = ["finish_reserved_trial", "reserve_trial", "trial_seed", "write_trial_results"]


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
    write_trial_results(storage, trial_id, intermediate=intermediate, user_attrs=user_attrs)
    optuna_state = {
        TrialState.COMPLETE: optuna.trial.TrialState.COMPLETE,
        TrialState.PRUNED: optuna.trial.TrialState.PRUNED,
        TrialState.SKIPPED: optuna.trial.TrialState.PRUNED,  # see TrialState.SKIPPED
    }.get(state, optuna.trial.TrialState.FAIL)
    values = [value] if optuna_state is optuna.trial.TrialState.COMPLETE and value is not None else None
    if optuna_state is optuna.trial.TrialState.COMPLETE and values is None:
        optuna_state = optuna.trial.TrialState.FAIL
    storage.set_trial_state_values(trial_id, optuna_state, values)


def write_trial_results(
    storage: optuna.storages.BaseStorage,
    trial_id: int,
    *,
    intermediate: dict[int, float],
    user_attrs: dict[str, Any],
) -> None:
    """Write a running trial's per-epoch values and user attributes, as Optuna's setters would.

    On an RDB storage (SQLite, PostgreSQL, MySQL) everything goes in one transaction, under the trial's row
    lock, with one multi-row upsert per table; readers see exactly what ``set_trial_intermediate_value``
    and ``set_trial_user_attr`` would have written (same rows, same JSON). Any other storage gets one call
    per value. A lost connection is retried like the storage's own calls (the upserts write the same rows
    again).

    Raises:
        optuna.exceptions.UpdateFinishedTrialError: the trial is no longer running (e.g. another process
            failed it for a stale heartbeat), as Optuna's setters raise.
    """
    user_attrs = {key: _json_safe(value) for key, value in user_attrs.items()}
    intermediate = {int(step): float(value) for step, value in intermediate.items()}
    if not intermediate and not user_attrs:
        return
    rdb = _rdb_storage(storage)
    if rdb is None:
        for step, score in intermediate.items():
            storage.set_trial_intermediate_value(trial_id, step, score)
        for key, attr in user_attrs.items():
            storage.set_trial_user_attr(trial_id, key, attr)
        return
    retried = getattr(rdb, "retried", None)  # ResilientStorage: one upsert, repeated as it is
    if retried is None:
        _write_rdb(rdb, trial_id, intermediate, user_attrs)
    else:
        retried(_write_rdb, rdb, trial_id, intermediate, user_attrs)


def _rdb_storage(storage: Any) -> Any:
    """The RDBStorage under ``storage`` (a study wraps it in a cache) if its dialect can upsert, else None."""
    from optuna.storages import RDBStorage

    backend = getattr(storage, "_backend", storage)  # optuna.storages._CachedStorage keeps it there
    if not isinstance(backend, RDBStorage):
        return None
    if backend.engine.name == "sqlite":
        import sqlite3

        return backend if sqlite3.sqlite_version_info >= (3, 24, 0) else None  # ON CONFLICT since 3.24
    return backend if backend.engine.name in ("postgresql", "mysql") else None


def _write_rdb(
    rdb: optuna.storages.RDBStorage, trial_id: int, intermediate: dict[int, float], user_attrs: dict[str, Any]
) -> None:
    # Optuna's own tables (optuna/storages/_rdb/models.py: unique (trial_id, step) and (trial_id, key));
    # values stored in Optuna's representation, so its readers cannot tell these rows from its own.
    import json

    import sqlalchemy as sa
    from optuna.storages._rdb import models
    from optuna.trial import TrialState as OptunaState

    def upsert(table: Any, rows: list[dict[str, Any]], keys: list[str], update: list[str]) -> Any:
        """One multi-row INSERT that overwrites a row whose ``keys`` exist (as Optuna's setters do)."""
        if rdb.engine.name == "postgresql":
            from sqlalchemy.dialects import postgresql

            pg = postgresql.insert(table).values(rows)
            return pg.on_conflict_do_update(index_elements=keys, set_={c: pg.excluded[c] for c in update})
        if rdb.engine.name == "sqlite":
            from sqlalchemy.dialects import sqlite

            lite = sqlite.insert(table).values(rows)
            return lite.on_conflict_do_update(index_elements=keys, set_={c: lite.excluded[c] for c in update})
        from sqlalchemy.dialects import mysql

        my = mysql.insert(table).values(rows)
        return my.on_duplicate_key_update({c: my.inserted[c] for c in update})

    trials = models.TrialModel.__table__
    with rdb.engine.begin() as connection:
        state = connection.execute(
            sa.select(trials.c.state).where(trials.c.trial_id == trial_id).with_for_update()
        ).scalar_one_or_none()
        if state is None:
            raise KeyError(f"no trial with id {trial_id}")
        rdb.check_trial_is_updatable(trial_id, OptunaState(state))
        if user_attrs:
            connection.execute(
                upsert(
                    models.TrialUserAttributeModel.__table__,
                    [
                        {"trial_id": trial_id, "key": k, "value_json": json.dumps(v)}
                        for k, v in user_attrs.items()
                    ],
                    ["trial_id", "key"],
                    ["value_json"],
                )
            )
        if intermediate:
            rows = []
            for step, value in intermediate.items():
                stored, kind = models.TrialIntermediateValueModel.intermediate_value_to_stored_repr(value)
                rows.append(
                    {
                        "trial_id": trial_id,
                        "step": step,
                        "intermediate_value": stored,
                        "intermediate_value_type": kind,
                    }
                )
            connection.execute(
                upsert(
                    models.TrialIntermediateValueModel.__table__,
                    rows,
                    ["trial_id", "step"],
                    ["intermediate_value", "intermediate_value_type"],
                )
            )
