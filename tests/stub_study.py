"""A run on disk holding one study of iris over a three-parameter space, its manifest written: what the
stand-in trainers (``trainer="module:function"``) search in the worker tests (tests/ is on sys.path, as
the folder of the root conftest)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, NamedTuple

from automl.backends import get_backend
from automl.datasets import load_dataset
from automl.engine import Budget
from automl.metrics import get_metric
from automl.space import Choice, Fixed, Float, SearchSpace
from automl.store import BackendEntry, BudgetEntry, DatasetEntry, RunManifest, SpaceEntry, write_manifest
from automl.workers import prepare_run, prepare_study


class StubStudy(NamedTuple):
    prepared: Any  # automl.workers.PreparedRun
    launch: Any  # the study's launch (its name, budget, info)
    backend: Any


def stub_study(
    tmp_path: Path, backend_name: str, record: BudgetEntry, *, epochs: int, heartbeat_interval: int = 1
) -> StubStudy:
    """``tmp_path / "run"`` with one study under ``record``'s budget, searched by ``backend_name``'s
    random algorithm without pruning, seed 0; ``epochs`` is the space's fixed epoch count."""
    space = SearchSpace(
        name="stub", family="mlp",
        parameters=[Float("dropout", 0.0, 0.9), Choice("batch_size", (16, 32)), Fixed("epochs", epochs)],
    )  # fmt: skip
    dataset = load_dataset("iris", seed=0)
    backend = get_backend(backend_name)(algorithm="random", pruner="none", seed=0, options={})
    prepared = prepare_run(
        name=None, run_dir=tmp_path / "run", default_name="run", storage=None, resume=False, overwrite=False,
        kind="search", heartbeat_interval=heartbeat_interval,
    )  # fmt: skip
    launch = prepare_study(
        prepared, dataset=dataset, space=space, backend=backend, metric=get_metric("accuracy", dataset.task),
        budget=Budget.of(record, timeout=record.timeout), seed=0, resume=False, cv=0, warm=None,
    )  # fmt: skip
    manifest = RunManifest(
        kind="search", name="run", studies=(launch.name,), seed=0,
        datasets=(DatasetEntry(name="iris", source="iris", task=dataset.task.value,
                               fingerprint=dataset.fingerprint),),
        spaces=(SpaceEntry.of(space),), backend=BackendEntry(backend.name, backend.algorithm, backend.pruner, {}),
        budget=record,
    )  # fmt: skip
    write_manifest(prepared.run, prepared.storage, manifest)
    return StubStudy(prepared, launch, backend)
