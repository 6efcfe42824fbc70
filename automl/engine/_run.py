"""Searching one opened study in this process: the runner and session set up, the backend driven, the
session stopped cleanly whatever happens. A single-process search and every worker process go through it."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from automl.engine._session import Budget, SearchSession

if TYPE_CHECKING:
    import optuna

    from automl.datasets import Dataset
    from automl.engine._progress import Progress
    from automl.engine._protocol import Trainer
    from automl.space import SearchSpace
    from automl.store import StudyInfo

__all__ = ["run_session"]


def run_session(
    backend: Any,
    study: optuna.Study,
    info: StudyInfo,
    space: SearchSpace,
    dataset: Dataset,
    budget: Budget,
    *,
    seed: int,
    progress: Progress | None = None,
    run_dir: Path | None = None,
    trainer: Trainer | None = None,
    device: str | None = None,
    max_trials_here: int | None = None,
    since: datetime | None = None,
    deadline: float | None = None,
) -> SearchSession:
    """Search one opened study under ``budget`` with ``backend``; returns the finished session.

    ``trainer`` replaces :func:`automl.train` (tests); ``device`` names the device this process trains on
    when the caller has set it up already (default: set this process up for training, which imports
    TensorFlow, and record what it found). A worker stops after ``max_trials_here`` trials (to be
    recycled) and counts failures in a row from ``since`` (the whole search's start). ``deadline`` (a
    ``time.time()``) is the search's end when it was fixed before this call, as other processes know it.

    Raises:
        FatalError: the session stopped on too many failures (finished trials are kept).
        KeyboardInterrupt: Ctrl-C, after the session is stopped cleanly.
    """
    from automl.engine._runner import TrialRunner
    from automl.interrupts import InterruptGuard

    if device is None:
        from automl import _keras  # TensorFlow: only when this process trains

        device = _keras.configure_process()
    runner = TrialRunner(
        dataset,
        metric=info.metric,
        seed=seed,
        trial_timeout=budget.trial_timeout,
        device=device,
        family=space.family,
        trainer=trainer,
        cv=info.cv,
    )
    session = SearchSession(
        study=study, info=info, space=space, runner=runner, budget=budget, progress=progress, run_dir=run_dir,
        max_trials_here=max_trials_here, since=since, deadline=deadline,
    )  # fmt: skip
    with InterruptGuard():
        session.start()
        try:
            backend.search(session)
        finally:
            session.stop()
    if session.fatal is not None:
        raise session.fatal
    return session
