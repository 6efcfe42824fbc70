"""Searching one opened study in this process: the runner and session set up, the backend driven, the
session stopped cleanly whatever happens. A single-process search and every worker process go through it."""

from __future__ import annotations

import os
import re
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from automl.engine._budget import Budget
from automl.engine._open import shares_study
from automl.engine._session import SearchSession

if TYPE_CHECKING:
    import optuna

    from automl.datasets import Dataset
    from automl.engine._progress import Progress
    from automl.engine._protocol import Trainer
    from automl.space import SearchSpace
    from automl.store import StudyInfo

__all__ = ["CHECKPOINT_DIR_VARIABLE", "CHECKPOINT_EVERY_VARIABLE", "checkpoint_folder", "run_session"]

#: a folder every machine of a search can reach (remote workers have no run directory of their own)
CHECKPOINT_DIR_VARIABLE = "AUTOML_CHECKPOINT_DIR"
#: seconds (or ``2m``) between two saves of a running trial's state; 0 saves after every epoch
CHECKPOINT_EVERY_VARIABLE = "AUTOML_CHECKPOINT_EVERY"


def checkpoint_folder(
    run_dir: Path | None, study_name: str, checkpoint_dir: str | Path | None = None
) -> Path | None:
    """Where the study's trials keep their checkpoints: ``checkpoint_dir`` (``--checkpoint-dir``, given to
    this process), else ``AUTOML_CHECKPOINT_DIR`` (shared by the machines of a search), else the run
    directory's ``checkpoints/``; None where none is (a remote worker without a shared folder: its trials
    restart when retried)."""
    shared = os.environ.get(CHECKPOINT_DIR_VARIABLE, "").strip()
    if checkpoint_dir is not None:
        base: Path | None = Path(checkpoint_dir)
    else:
        base = Path(shared) if shared else (None if run_dir is None else Path(run_dir) / "checkpoints")
    # One folder per study, named after it (``run/digits/mlp/optuna-tpe`` → ``run-digits-mlp-optuna-tpe``).
    return None if base is None else base / re.sub(r"[^A-Za-z0-9_.-]+", "-", study_name)


def checkpoint_every() -> float:
    """Seconds between two saves of a running trial's state: ``AUTOML_CHECKPOINT_EVERY``, else
    :data:`~automl.training.CHECKPOINT_EVERY_SECONDS`."""
    from automl._durations import duration_from_env
    from automl.training import CHECKPOINT_EVERY_SECONDS

    return duration_from_env(CHECKPOINT_EVERY_VARIABLE, CHECKPOINT_EVERY_SECONDS)


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
    checkpoint_dir: Path | None = None,
) -> SearchSession:
    """Search one opened study under ``budget`` with ``backend``; returns the finished session.

    ``trainer`` replaces :func:`automl.train` (tests); ``device`` names the device this process trains on
    when the caller has set it up already (default: set this process up for training, which imports
    TensorFlow, and record what it found). A worker stops after ``max_trials_here`` trials (to be
    recycled) and counts failures in a row from ``since`` (the whole search's start). ``deadline`` (a
    ``time.time()``) is the search's end when it was fixed before this call, as other processes know it.
    ``checkpoint_dir`` holds the trials' checkpoints (see :func:`checkpoint_folder`).

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
        # Only a backend whose retries come from the study resumes a trial (KerasTuner's oracle ends a
        # killed trial and proposes anew: its checkpoint would never be read).
        checkpoints=(
            checkpoint_folder(run_dir, study.study_name, checkpoint_dir) if shares_study(backend) else None
        ),
        checkpoint_every=checkpoint_every(),
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
