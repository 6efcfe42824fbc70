"""Searching a study with a stub trainer: the real engine, backends and storage, no Keras."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from automl.backends import get_backend
from automl.datasets import Dataset
from automl.engine import (
    STALL_TOLERANCE,
    Budget,
    SearchSession,
    open_study,
    parse_stop_stalled,
    run_session,
)
from automl.space import Choice, Fixed, Float, SearchSpace
from automl.store import TrialRecord, load_records, open_storage
from automl.testing import StubTrainer

STUDY = "stub/iris/stub/run"


def stub_space(epochs: int = 3) -> SearchSpace:
    """``dropout`` stands for the config's quality (see :func:`automl.testing.stub_score`)."""
    return SearchSpace(
        name="stub",
        family="mlp",
        parameters=[Float("dropout", 0.0, 0.9), Choice("batch_size", (16, 32)), Fixed("epochs", epochs)],
    )


@dataclass
class StubSearch:
    session: SearchSession
    records: list[TrialRecord]

    @property
    def finished(self) -> list[TrialRecord]:
        return [r for r in self.records if r.state.finished]


def stub_search(
    url: str,
    dataset: Dataset,
    trainer: StubTrainer,
    *,
    trials: int | None = 5,
    timeout: float | None = None,
    backend: str = "optuna",
    algorithm: str = "random",
    pruner: str = "none",
    options: dict[str, Any] | None = None,
    seed: int = 0,
    resume: bool = False,
    local: bool = True,
    max_consecutive_failures: int = 5,
    space: SearchSpace | None = None,
    run_dir: Path | None = None,
    study: str = STUDY,
    cv: int | None = None,
    stop_stalled: int | str | None = None,
    stall_tolerance: float = STALL_TOLERANCE,
) -> StubSearch:
    """Open (or resume) one study in ``url`` and search it with ``trainer``; the session and the records."""
    space = space or stub_space()
    chosen = get_backend(backend)(algorithm=algorithm, pruner=pruner, seed=seed, options=options)
    storage = open_storage(url)
    opened, info = open_study(
        storage, study, space=space, dataset=dataset, metric="accuracy", direction="maximize",
        backend=chosen, seed=seed, resume=resume, local=local, cv=cv,
    )  # fmt: skip
    stall_trials, stall_seconds = parse_stop_stalled(stop_stalled)
    budget = Budget(
        trials=trials, timeout=timeout, max_consecutive_failures=max_consecutive_failures,
        stall_trials=stall_trials, stall_seconds=stall_seconds, stall_tolerance=stall_tolerance,
    )  # fmt: skip
    try:
        session = run_session(
            chosen, opened, info, space, dataset, budget, seed=seed, trainer=trainer, device="stub",
            run_dir=run_dir,
        )  # fmt: skip
    finally:
        records = load_records(storage, study)
    return StubSearch(session, records)
