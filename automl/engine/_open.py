"""Opening a study: created with its facts (baselines included) and the folds that score its trials, or
reopened to resume, with the trials of dead processes failed and retried. The same for a search, an
experiment's studies and a worker joining one."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from automl._logs import optuna_verbosity
from automl.exceptions import Argument, UserError
from automl.store import StudyInfo, fail_orphaned_trials, load_study_info

if TYPE_CHECKING:
    import optuna

    from automl.datasets import Dataset
    from automl.space import SearchSpace

__all__ = ["AUTO_CV_FOLDS", "AUTO_CV_MAX_ROWS", "check_family", "choose_folds", "open_study"]

log = logging.getLogger("automl.search")


def check_family(space: SearchSpace, dataset: Dataset) -> None:
    """Raise UserError unless ``space`` can train models on ``dataset``: its family fits the data, and its
    ``max_params`` leaves at least the smallest model (checked before any worker starts)."""
    if space.family == "cnn" and dataset.kind != "image":
        raise UserError(
            f"space {space.name!r} builds convolutional networks, but dataset {dataset.name!r} is tabular; "
            "use an MLP space such as mlp or tiny"
        )
    from automl.engine._limits import search_limits

    limit = search_limits(space, dataset)
    if limit is not None:
        limit.check_reachable()


#: ``cv="auto"`` scores trials by this many folds under a time budget on datasets with at most
#: AUTO_CV_MAX_ROWS training + validation rows, where one validation split is too noisy to rank configs.
#: Measured at 60 s (benchmarks/results/lever_cv.md): level with the split by paired median on wine (142
#: rows) and breast_cancer (455 rows), means +0.93 and +0.30 points, and honest validation scores; level
#: too on the regressions diabetes (354 rows) and auto_mpg (318), with 16-23 trials against the split's
#: 62-71 (benchmarks/results/quality-until-ebab918.md): the folds cost trials, not test score, and their
#: validation score overstates the test score less. Larger tables were not measured, so they keep the split.
AUTO_CV_FOLDS = 5
AUTO_CV_MAX_ROWS = 500


def choose_folds(cv: int | str | None, dataset: Dataset, backend: Any, *, timed: bool = True) -> int:
    """The folds that score each trial for ``cv`` (a count, 0 / None for the validation split, or "auto").

    ``auto`` folds only a search with a time budget (``timed``): it trades trials for better-ranked ones
    at equal time; under a trial count alone, folds would multiply the time the user asked for.

    Raises:
        UserError: a bad value, or folds asked of a backend that cannot use them.
    """
    if cv in (None, 0, "none", "0"):
        return 0
    refusal = getattr(backend, "cv_refusal", lambda: None)()
    if cv == "auto":
        rows = len(dataset.y_train) + len(dataset.y_val)
        if (
            not timed
            or refusal is not None
            or rows > AUTO_CV_MAX_ROWS
            or dataset.info.get("split") == "ordered"
        ):
            return 0
        if dataset.task.is_classification:
            smallest = int(np.bincount(np.concatenate([dataset.y_train, dataset.y_val]).astype(int)).min())
            if smallest < AUTO_CV_FOLDS:
                return 0
        return AUTO_CV_FOLDS
    try:
        folds = int(cv)
    except (TypeError, ValueError):
        folds = -1
    if isinstance(cv, bool) or folds < 2 or str(folds) != str(cv).strip():
        raise UserError(
            f"`cv` must be a number of folds (2 or more), 0 for the validation split, or 'auto', not {cv!r}"
        )
    if refusal is not None:
        raise UserError(f"`cv={folds}`: {refusal}")
    if dataset.info.get("split") == "ordered":
        raise UserError(
            f"`cv={folds}` shuffles rows into folds, but dataset {dataset.name!r} keeps its rows' order "
            "(`split: ordered`): its validation rows come after its training rows; search without `cv`"
        )
    return folds


def open_study(
    storage: optuna.storages.BaseStorage,
    name: str,
    *,
    space: SearchSpace,
    dataset: Dataset,
    metric: str,
    direction: str,
    backend: Any,
    seed: int,
    resume: bool,
    local: bool,
    prepare: bool = True,
    cv: int | str | None = None,
    timed: bool = False,
    objectives: Sequence[str] | None = None,
) -> tuple[optuna.Study, StudyInfo]:
    """Create study ``name`` with its :class:`StudyInfo` (baselines included), or reopen it to resume.

    ``prepare`` lets the backend set the study up (``Backend.prepare_study``); worker processes joining
    a study the parent opened pass False. ``cv`` is the folds that score each trial (see
    :func:`choose_folds`, with ``timed`` saying whether a time budget bounds the search; a resumed study
    keeps its own, and refuses another number given explicitly).

    ``objectives``: what the search minimises beside the score (:mod:`automl.objectives`); the study is
    then multi-objective, its values the score then these. None: as recorded (a resume), else none.

    Shared by :class:`AutoMLSearch` and :class:`automl.experiment.Experiment`. ``local`` says the storage
    is the run's own SQLite file, where every RUNNING trial is an orphan of a dead process.

    Raises:
        UserError: the study exists and ``resume`` is false, or it was searched with another space or
            other data (content hash / fingerprint changed).
    """
    import optuna

    # optional for backends not derived from Backend: those search on the score alone
    refuse = getattr(backend, "objectives_refusal", lambda objectives: None)
    refusal = refuse(tuple(objectives or ()))
    if refusal:
        raise UserError(
            "{objectives}: {refusal}",
            objectives=Argument("objectives", ",".join([metric, *(objectives or ())]), literal=False),
            refusal=refusal,
        )
    exists = name in {s.study_name for s in optuna.get_all_study_summaries(storage, include_best_trial=False)}
    if exists:
        if not resume:
            raise UserError(
                "study {study!r} already exists in the storage: add {resume} to continue it, "
                "or {overwrite} / another {name} to start afresh",
                study=name,
                resume=Argument("resume"),
                overwrite=Argument("overwrite"),
                name=Argument("name"),
            )
        info = load_study_info(storage, name)
        if info.space_hash != space.content_hash:
            raise UserError(
                "{resume} with a different search space: {space!r} changed since the run started "
                "(hash {was} → {now}); restore it, or start a new run with another {name}",
                resume=Argument("resume"),
                space=space.name,
                was=info.space_hash,
                now=space.content_hash,
                name=Argument("name"),
            )
        if info.dataset_fingerprint != dataset.fingerprint:
            raise UserError(
                "{resume} with different data: dataset {dataset!r} no longer matches the run's "
                "(fingerprint changed); restore it or the {seed}, or start a new run with another {name}",
                resume=Argument("resume"),
                dataset=dataset.name,
                seed=Argument("seed"),
                name=Argument("name"),
            )
        if objectives is not None and list(objectives) != list(info.objectives):
            raise UserError(
                "{resume} with {objectives}: the run searched for {was}; resume with that, or start a new "
                "run with another {name}",
                resume=Argument("resume"),
                objectives=Argument("objectives", ",".join([metric, *objectives]), literal=False),
                was=",".join([info.metric, *info.objectives]),
                name=Argument("name"),
            )
        if cv not in (None, "auto") and choose_folds(cv, dataset, backend) != info.cv:
            raise UserError(
                "{resume} with `cv={cv}`: the run scored its trials with {scored} (`cv={was}`); "
                "resume with that, or start a new run with another {name}",
                resume=Argument("resume"),
                cv=cv,
                scored=f"{info.cv}-fold cross-validation" if info.cv else "the validation split",
                was=info.cv,
                name=Argument("name"),
            )
        with optuna_verbosity(optuna.logging.WARNING):
            study = optuna.load_study(study_name=name, storage=storage)
        failed = fail_orphaned_trials(study, local=local, retry=shares_study(backend))
        if failed:
            log.info("marked %d interrupted trial(s) as failed", failed)
        if prepare:
            _prepare(backend, study, space)
        return study, info
    folds = choose_folds(cv, dataset, backend, timed=timed)
    info = StudyInfo(
        dataset=dataset.name,
        dataset_fingerprint=dataset.fingerprint,
        space=space.name,
        space_hash=space.content_hash,
        task=dataset.task.value,
        metric=metric,
        direction=direction,
        backend=backend.name,
        algorithm=backend.algorithm,
        pruner=backend.pruner,
        baselines=dataset.baselines(metric),
        seed=seed,
        cv=folds,
        objectives=list(objectives or ()),
    )
    score = "maximize" if direction == "maximize" else "minimize"
    with optuna_verbosity(optuna.logging.WARNING):  # our own log says what was created
        study = optuna.create_study(
            study_name=name, storage=storage, directions=[score, *["minimize"] * len(info.objectives)]
        )
    for key, value in info.to_attrs().items():
        study.set_user_attr(key, value)
    if prepare:
        _prepare(backend, study, space)
    return study, info


def shares_study(backend: Any) -> bool:
    """Whether ``backend`` proposes from the study (so a failed trial's config can be retried there)."""
    spec = getattr(backend, "spec", None)  # None for backends not derived from Backend
    return bool(spec is not None and spec.shares_study)


def _prepare(backend: Any, study: optuna.Study, space: SearchSpace) -> None:
    hook = getattr(backend, "prepare_study", None)  # optional for backends not derived from Backend
    if hook is not None:
        hook(study, space)
