"""Runs made by hand in a real Optuna storage: trials with histories, no training (the report reads them)."""

from __future__ import annotations

import datetime
import math
from pathlib import Path

import pytest


def curve(n: int, start: float, end: float, rate: float) -> list[float]:
    return [end + (start - end) * math.exp(-rate * i) for i in range(n)]


def history(kind: str, epochs: int, quality: float) -> dict[str, list[float]]:
    """Per-epoch curves shaped as ``kind``: balanced, over-fit or under-fit."""
    train = curve(epochs, 1.1, 0.05 if kind == "over-fit" else 0.3, 0.3)
    val = curve(epochs, 1.15, 0.4, 0.3)
    if kind == "over-fit":
        val = [v + 0.03 * max(0, i - epochs // 3) for i, v in enumerate(val)]
    if kind == "under-fit":
        train = [1.1 - 0.005 * i for i in range(epochs)]
        val = [1.12 - 0.005 * i for i in range(epochs)]
    accuracy = [min(1.0, quality * (1 - math.exp(-0.4 * (i + 1)))) for i in range(epochs)]
    return {
        "loss": train,
        "accuracy": accuracy,
        "val_loss": val,
        "val_accuracy": accuracy,
        "lr": [0.01] * epochs,
    }


@pytest.fixture
def make_run(tmp_path):
    """``make_run(n_complete, ...)`` → the path of a search run holding hand-made trials.

    Options: ``pruned``, ``failed`` (counts), ``running`` (trials left running), ``dataset``, ``target``,
    ``source``, ``failure`` (the failed trials' reason), ``activation`` (a categorical value to store),
    ``epochs``, ``name``.
    """
    import optuna
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

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

    def make(
        n_complete: int = 12,
        *,
        pruned: int = 2,
        failed: int = 1,
        running: int = 0,
        dataset: str = "wine",
        target: str | None = None,
        source: str | None = None,
        failure: str = "nan_loss: training loss became nan in epoch 2",
        activation: str = "relu",
        epochs: int = 20,
        name: str = "hand",
    ) -> Path:
        path = tmp_path / name
        path.mkdir()
        run = RunDir(path)
        storage = open_storage(storage_url_for(path, None), heartbeat_interval=None)
        study_id = study_name(name, dataset, "tiny", "optuna", "tpe")
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        study = optuna.create_study(study_name=study_id, storage=storage, direction="maximize")
        info = StudyInfo(
            dataset=dataset, dataset_fingerprint="f", space="tiny", space_hash="h", task="multiclass",
            metric="accuracy", direction="maximize", backend="optuna", algorithm="tpe", pruner="median",
            baselines={"majority": 0.4, "linear": 0.9},
        )  # fmt: skip
        for key, value in info.to_attrs().items():
            study.set_user_attr(key, value)
        dists = {
            "depth": IntDistribution(1, 3),
            "units_0": IntDistribution(8, 64, log=True),
            "units_1": IntDistribution(8, 64, log=True),
            "units_2": IntDistribution(8, 64, log=True),
            "activation": CategoricalDistribution(["relu", "tanh", activation]),
            "dropout": FloatDistribution(0.0, 0.5),
            "learning_rate": FloatDistribution(1e-4, 1e-1, log=True),
            "batch_size": CategoricalDistribution([32, 64]),
        }
        start = datetime.datetime(2026, 1, 1, 12, 0, 0)
        trials = []
        kinds = ("balanced", "over-fit", "under-fit")
        total = n_complete + pruned + failed
        for i in range(total):
            depth = 1 + i % 3
            params = {
                "depth": depth,
                **{f"units_{k}": 8 + (i * 7 + k * 5) % 56 for k in range(depth)},
                "activation": ("relu", "tanh", activation)[i % 3],
                "dropout": (i % 10) / 20,
                "learning_rate": 10 ** (-4 + 3 * ((i * 37) % 100) / 100),
                "batch_size": (32, 64)[i % 2],
            }
            quality = 0.75 + 0.2 * ((i * 53) % 97) / 97
            state = (
                TrialState.COMPLETE
                if i < n_complete
                else TrialState.PRUNED
                if i < n_complete + pruned
                else TrialState.FAIL
            )
            n_epochs = epochs if state is TrialState.COMPLETE else 3
            hist = history(kinds[i % 3], n_epochs, quality) if state is not TrialState.FAIL else {}
            record = TrialRecord(
                number=i, state=state, score=None, params=params, config={**params, "epochs": epochs},
                history=hist, best_epoch=n_epochs, epochs_run=n_epochs if hist else 0,
                stopped_by="max_epochs" if state is TrialState.COMPLETE else None,
                fit_seconds=1.0 + i % 5, n_params=1000 + i,
                failure=failure if state is TrialState.FAIL else None,
            )  # fmt: skip
            value = max(hist["val_accuracy"]) if hist else None
            trial = optuna.trial.create_trial(
                state=getattr(optuna.trial.TrialState, state.name),
                value=value if state is TrialState.COMPLETE else None,
                params=params,
                distributions={k: dists[k] for k in params},
                user_attrs=record.user_attrs(),
                intermediate_values={e + 1: v for e, v in enumerate(hist.get("val_accuracy", []))},
            )
            trial.datetime_start = start + datetime.timedelta(seconds=10 * i)
            trial.datetime_complete = start + datetime.timedelta(seconds=10 * i + 8)
            trials.append(trial)
        study.add_trials(trials)
        for _ in range(running):
            study.ask()
        manifest = RunManifest(
            kind="search", name=name,
            datasets=(DatasetEntry(name=dataset, source=source, target=target, task="multiclass"),),
            spaces=(SpaceEntry(name="tiny", hash="h"),),
            backend=BackendEntry("optuna", "tpe", "median"), studies=(study_id,), metric="accuracy",
            budget=BudgetEntry(trials=total), devices={"workers": 1},
        )  # fmt: skip
        write_manifest(run, storage, manifest)
        return path

    return make
