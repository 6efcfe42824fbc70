"""The store: trial records and study facts kept in an Optuna storage, one schema for both backends.

The storage is Optuna's (SQLite file by default, PostgreSQL or MySQL for several machines; opened by
:mod:`automl.store._storage`), so
concurrency, heartbeats and resume come from a tested engine and ``optuna-dashboard <url>`` shows our
studies. What automl adds lives in user attributes:

* per study (:class:`StudyInfo`): dataset name and fingerprint, space name and content hash, task, metric,
  direction, validation baselines (computed once, when the study is created), backend and algorithm;
* per trial (:class:`TrialRecord`): the full config, per-epoch history, best epoch, epochs run, why it
  stopped, fit seconds, parameter count, seed, effective batch size, device, worker and failure reason;
  a completed trial's saved size and prediction latencies (:class:`automl.training.Footprint`).

Importing this module does not import TensorFlow.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from automl.exceptions import UserError
from automl.outcomes import FailureKind, StopReason

if TYPE_CHECKING:
    import optuna

__all__ = [
    "SCHEMA_VERSION",
    "StudyInfo",
    "TrialRecord",
    "TrialState",
    "best_first",
    "failure_kind_of",
    "load_records",
    "load_study_info",
    "search_seconds",
    "study_name",
]

SCHEMA_VERSION = 1


class TrialState(StrEnum):
    """Where a trial stands; mirrors Optuna's states by name."""

    COMPLETE = "complete"
    PRUNED = "pruned"
    FAIL = "fail"
    RUNNING = "running"
    WAITING = "waiting"
    #: proposed over a limit of the search (``max_params``) and not trained; Optuna holds it as PRUNED,
    #: with a constraint value, so that its sampler learns the config is infeasible
    SKIPPED = "skipped"

    @property
    def finished(self) -> bool:
        """Counts toward the trial budget (failed trials do not)."""
        return self in (TrialState.COMPLETE, TrialState.PRUNED)


def _json_safe(value: Any) -> Any:
    """Optuna stores user attributes as JSON: NaN/inf become None, numpy scalars plain Python."""
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


@dataclass
class StudyInfo:
    """Facts of a study, stored once in its user attributes when the study is created."""

    dataset: str
    dataset_fingerprint: str
    space: str
    space_hash: str
    task: str
    metric: str
    direction: str
    backend: str
    algorithm: str
    pruner: str = "none"
    baselines: dict[str, float] = field(default_factory=dict)
    seed: int = 0
    schema: int = SCHEMA_VERSION
    #: folds of the cross-validation that scores each trial (0: the validation split scores it)
    cv: int = 0
    #: objectives beyond the score, each minimised (``params``, ``size``, ``latency``: automl.objectives);
    #: with any, the study is multi-objective: its trials' values are the score, then these
    objectives: list[str] = field(default_factory=list)

    def to_attrs(self) -> dict[str, Any]:
        return {f"automl.{k}": _json_safe(v) for k, v in asdict(self).items()}

    @classmethod
    def from_attrs(cls, attrs: dict[str, Any]) -> StudyInfo | None:
        names = {f.name for f in fields(cls)}
        values = {k[len("automl.") :]: v for k, v in attrs.items() if k.startswith("automl.")}
        if not {"dataset", "space", "metric", "direction"} <= values.keys():
            return None
        return cls(**{k: v for k, v in values.items() if k in names})


@dataclass
class TrialRecord:
    """One trial as automl reports it, whichever backend ran it."""

    number: int
    state: TrialState
    score: float | None
    params: dict[str, Any]
    config: dict[str, Any] = field(default_factory=dict)
    history: dict[str, list[float | None]] = field(default_factory=dict)
    best_epoch: int | None = None
    epochs_run: int = 0
    stopped_by: str | None = None
    fit_seconds: float | None = None
    n_params: int | None = None
    seed: int | None = None
    effective_batch_size: int | None = None
    device: str | None = None
    worker: str | None = None
    failure: str | None = None
    #: what ended a failed trial (policy reads this, never ``failure``'s wording)
    failure_kind: FailureKind | None = None
    started: datetime | None = None
    finished: datetime | None = None
    #: each fold's best validation score, in fold order, when the study scores trials by cross-validation
    cv_scores: list[float] | None = None
    #: the trial this one retries (its checkpoint and seed are that trial's), and the epoch it resumed at
    #: from that checkpoint: the epochs before it were trained by the earlier process and not again
    retry_of: int | None = None
    resumed_at: int | None = None
    #: a config the study had finished already: this trial reuses that trial's result, untrained
    repeat_of: int | None = None
    #: the trained model's footprint, measured in the trial's process (None: not measured, see
    #: automl.training.Footprint): its .keras bytes, ms to predict one row alone, and per row among 256
    size_bytes: int | None = None
    latency_ms: float | None = None
    latency_ms_256: float | None = None

    #: the fields kept as Optuna user attributes (the rest come from the trial itself).
    ATTRS = (
        "config",
        "history",
        "best_epoch",
        "epochs_run",
        "stopped_by",
        "fit_seconds",
        "n_params",
        "seed",
        "effective_batch_size",
        "device",
        "worker",
        "failure",
        "failure_kind",
        "cv_scores",
        "retry_of",
        "resumed_at",
        "repeat_of",
        "size_bytes",
        "latency_ms",
        "latency_ms_256",
    )

    def user_attrs(self) -> dict[str, Any]:
        return {key: _json_safe(getattr(self, key)) for key in self.ATTRS if getattr(self, key) is not None}

    @classmethod
    def from_frozen(cls, trial: optuna.trial.FrozenTrial) -> TrialRecord:
        attrs = trial.user_attrs
        state = TrialState(trial.state.name.lower())
        if over_limit(trial):
            state = TrialState.SKIPPED
        score = trial.values[0] if trial.values else None  # a multi-objective study's score comes first
        if score is None and state is TrialState.PRUNED:
            # the last reported score: Optuna's intermediate values, or the curve a multi-objective
            # study keeps itself (automl.backends.optuna._multi)
            curve = trial.intermediate_values or {int(k): v for k, v in (attrs.get("reported") or {}).items()}
            if curve:
                score = curve[max(curve)]
        config = dict(attrs.get("config") or {**trial.params})
        return cls(
            number=trial.number,
            state=state,
            score=None if score is None or not math.isfinite(score) else float(score),
            params=dict(trial.params),
            config=config,
            history=dict(attrs.get("history") or {}),
            best_epoch=attrs.get("best_epoch"),
            epochs_run=int(attrs.get("epochs_run") or 0),
            stopped_by=attrs.get("stopped_by"),
            fit_seconds=attrs.get("fit_seconds"),
            n_params=attrs.get("n_params"),
            seed=attrs.get("seed"),
            effective_batch_size=attrs.get("effective_batch_size"),
            device=attrs.get("device"),
            worker=attrs.get("worker"),
            failure=attrs.get("failure"),
            failure_kind=failure_kind_of(state, attrs),
            cv_scores=attrs.get("cv_scores"),
            retry_of=attrs.get("retry_of", trial.system_attrs.get("failed_trial")),
            resumed_at=attrs.get("resumed_at"),
            repeat_of=attrs.get("repeat_of"),
            size_bytes=attrs.get("size_bytes"),
            latency_ms=attrs.get("latency_ms"),
            latency_ms_256=attrs.get("latency_ms_256"),
            started=trial.datetime_start,
            finished=trial.datetime_complete,
        )


def over_limit(trial: optuna.trial.FrozenTrial) -> bool:
    """Whether ``trial`` is a config proposed over a limit of the search and not trained: it is no trial of
    the budget, the failure streak or the stall rule, though Optuna counts it as PRUNED."""
    return trial.user_attrs.get("stopped_by") == StopReason.OVER_LIMIT.value


def failure_kind_of(state: TrialState | str, attrs: dict[str, Any]) -> FailureKind | None:
    """The :class:`FailureKind` of a trial from its state and user attributes (None unless it failed).

    Trials recorded before kinds were stored get theirs from their message (:meth:`FailureKind.infer`).
    """
    if state != TrialState.FAIL:
        return None
    kind = attrs.get("failure_kind")
    if kind is not None:
        try:
            return FailureKind(kind)
        except ValueError:
            pass
    return FailureKind.infer(attrs.get("failure"))


def study_name(experiment: str, dataset: str, space: str, backend: str, algorithm: str) -> str:
    """``{experiment}/{dataset}/{space}/{backend}-{algorithm}``: one study per searched combination."""
    return f"{experiment}/{dataset}/{space}/{backend}-{algorithm}"


def load_study_info(storage: optuna.storages.BaseStorage | str, name: str) -> StudyInfo:
    """The :class:`StudyInfo` of study ``name``. Raises UserError if it is missing or not an automl study."""
    import optuna

    try:
        study = optuna.load_study(study_name=name, storage=storage)
    except KeyError:
        raise UserError(f"no study named {name!r} in the storage; list them with `optuna studies`") from None
    info = StudyInfo.from_attrs(study.user_attrs)
    if info is None:
        raise UserError(f"study {name!r} was not created by automl (no automl attributes)")
    return info


def best_first(records: list[TrialRecord], direction: str) -> list[TrialRecord]:
    """The complete trials with a score, best validation score first (ties keep trial order); a repeat of
    an earlier trial's config is that trial, and left out."""
    scored = [
        (r.score, r)
        for r in records
        if r.state is TrialState.COMPLETE and r.score is not None and r.repeat_of is None
    ]
    sign = -1.0 if direction == "maximize" else 1.0
    return [r for score, r in sorted(scored, key=lambda pair: sign * pair[0])]


def search_seconds(records: list[TrialRecord]) -> float | None:
    """The search's wall time as its trials saw it: the first trial's start to the last trial's end (None
    before a trial ended). The report, the leaderboards and the retrain's ``metrics.json`` all say this."""
    starts = [r.started for r in records if r.started is not None]
    ends = [r.finished for r in records if r.finished is not None]
    if not starts or not ends:
        return None
    return max(0.0, (max(ends) - min(starts)).total_seconds())


def load_records(storage: optuna.storages.BaseStorage | str, name: str) -> list[TrialRecord]:
    """Every trial of study ``name`` as :class:`TrialRecord`, in trial-number order."""
    import optuna

    study = optuna.load_study(study_name=name, storage=storage)
    return [TrialRecord.from_frozen(t) for t in study.get_trials(deepcopy=False)]
