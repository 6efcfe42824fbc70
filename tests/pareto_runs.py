"""A run made by hand whose trials carry footprints, and a study that recorded secondary objectives: the
front's leaderboard, report and pick read it (no training)."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from pathlib import Path

#: (validation score, weights, saved bytes, ms per row at batch 1): the best (0) is large and slow; 1 gives up
#: 0.004 for a tenth of its size; 3 is on no front; 4 is the smallest and far worse; 5 a repeat of 0
ROWS: tuple[tuple[float, int, int, float], ...] = (
    (0.950, 100_000, 400_000, 2.0),
    (0.946, 10_000, 40_000, 0.6),
    (0.948, 22_000, 90_000, 0.9),
    (0.900, 30_000, 120_000, 1.5),
    (0.800, 1_000, 8_000, 0.3),
)


def pareto_run(
    path: Path,
    *,
    objectives: Sequence[str] = ("size",),
    rows: Sequence[tuple[float, int | None, int | None, float | None]] = ROWS,
    direction: str = "maximize",
    metric: str = "accuracy",
    dataset: str = "iris",
    name: str = "front",
) -> Path:
    """A search run at ``path`` with one complete trial per row (config ``units_0`` = the trial number), a
    repeat of trial 0, a pruned trial, and ``objectives`` recorded for its study."""
    import optuna
    from optuna.distributions import IntDistribution

    from automl.store import (
        BackendEntry,
        BudgetEntry,
        DatasetEntry,
        RunDir,
        RunManifest,
        SpaceEntry,
        StudyInfo,
        TrialRecord,
        TrialState,
        open_storage,
        storage_url_for,
        study_name,
        write_manifest,
    )

    path.mkdir(parents=True)
    storage = open_storage(storage_url_for(path, None), heartbeat_interval=None)
    study_id = study_name(name, dataset, "tiny", "optuna", "tpe")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(study_name=study_id, storage=storage, direction=direction)
    info = StudyInfo(
        dataset=dataset, dataset_fingerprint="f", space="tiny", space_hash="h", task="multiclass",
        metric=metric, direction=direction, backend="optuna", algorithm="tpe", baselines={"majority": 0.33},
        objectives=list(objectives),
    )  # fmt: skip
    for key, value in info.to_attrs().items():
        study.set_user_attr(key, value)
    start = datetime.datetime(2026, 1, 1, 12, 0, 0)
    trials = []
    extra = [(rows[0], {"repeat_of": 0}), (rows[0], {"state": TrialState.PRUNED})]
    for number, (row, more) in enumerate([*((r, {}) for r in rows), *extra]):
        score, n_params, size, latency = row
        state = more.get("state", TrialState.COMPLETE)
        params = {"depth": 1, "units_0": number + 1}
        record = TrialRecord(
            number=number, state=state, score=score, params=params, config={**params, "epochs": 3},
            history={"loss": [1.0, 0.5], "val_loss": [1.1, 0.6], "val_accuracy": [score - 0.1, score]},
            best_epoch=2, epochs_run=2, stopped_by="max_epochs", fit_seconds=1.0, n_params=n_params,
            size_bytes=None if state is TrialState.PRUNED else size,
            latency_ms=None if state is TrialState.PRUNED else latency,
            latency_ms_256=None if latency is None else latency / 40, repeat_of=more.get("repeat_of"),
        )  # fmt: skip
        trial = optuna.trial.create_trial(
            state=getattr(optuna.trial.TrialState, state.name),
            value=score if state is TrialState.COMPLETE else None,
            params=params,
            distributions={"depth": IntDistribution(1, 2), "units_0": IntDistribution(1, 64)},
            user_attrs=record.user_attrs(),
            intermediate_values={1: score - 0.1, 2: score},
        )
        trial.datetime_start = start + datetime.timedelta(seconds=10 * number)
        trial.datetime_complete = start + datetime.timedelta(seconds=10 * number + 8)
        trials.append(trial)
    study.add_trials(trials)
    manifest = RunManifest(
        kind="search", name=name, datasets=(DatasetEntry(name=dataset, task="multiclass"),),
        spaces=(SpaceEntry(name="tiny", hash="h"),), backend=BackendEntry("optuna", "tpe", "none"),
        studies=(study_id,), metric=metric, budget=BudgetEntry(trials=len(trials)), devices={"workers": 1},
    )  # fmt: skip
    write_manifest(RunDir(path), storage, manifest)
    return path
