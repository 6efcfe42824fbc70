"""Choosing from the trade-off front: the configs a ``pick`` retrains, picked one first.

``best`` keeps today's order (validation score, best first: :func:`automl.store.best_first`).
``smallest-within TOL`` and ``fastest-within TOL`` take the complete trials whose validation score is
within TOL of the best (:class:`~automl.store.Pick`) and order them by saved size (weights where a size was
not measured) or by latency at batch 1, smallest first, the better score first among equals: the first is
on the trade-off front (:func:`automl.store.pareto_front`), the smallest or fastest model that gives up
at most TOL. The latencies are those measured again in one quiet process
(:func:`automl.training.remeasure_front`, which the retrain runs first) where the study holds a current
record of them; else the trials' own, and ``metrics.json`` says which.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from automl.exceptions import Argument, UserError
from automl.objectives import SECONDARY
from automl.store import (
    Pick,
    QuietFootprint,
    StudyInfo,
    TrialRecord,
    best_first,
    measure_of,
    parse_pick,
)

if TYPE_CHECKING:
    import optuna

    from automl.datasets import Dataset
    from automl.space import SearchSpace
    from automl.store import RetrainPolicy

__all__ = ["Picked", "check_pick", "pick_configs", "quiet_for"]

#: the secondary objectives a pick's rule is allowed by: one of them recorded for the study
_ALLOWED = {"smallest": ("size", "params"), "fastest": ("latency",)}
#: what each measure is, in words
_WORDS = {"size_bytes": "saved size", "n_params": "weights", "latency_ms": "latency at batch 1"}


@dataclass
class Picked:
    """The configs a pick retrains, in its order (the picked one first), and why.

    ``measure``: the trial record's field the pick ordered by (None for ``best``); ``threshold``: the worst
    validation score a picked config could have; ``note``: what the pick had to do without (a size not
    measured, latencies of the trials' own processes); ``quiet``: the latencies measured again, if used.
    """

    pick: Pick
    best: TrialRecord
    order: list[TrialRecord]
    direction: str
    measure: str | None = None
    threshold: float | None = None
    notes: list[str] = field(default_factory=list)
    quiet: QuietFootprint | None = None

    @property
    def picked(self) -> TrialRecord:
        return self.order[0]

    def numbers(self, record: TrialRecord) -> dict[str, Any]:
        """A config's validation score and footprint as ``metrics.json`` holds them."""
        measured = None if self.quiet is None else self.quiet.trials.get(record.number)
        return {
            "trial": record.number,
            "validation_score": record.score,
            "n_params": record.n_params,
            "size_bytes": record.size_bytes,
            "latency_ms": record.latency_ms if measured is None else measured.get("latency_ms"),
            "latency_ms_256": record.latency_ms_256 if measured is None else measured.get("latency_ms_256"),
            "latency_measured": None
            if record.latency_ms is None and measured is None
            else "in its trial's process, during the search"
            if measured is None
            else f"again, in one process ({self.quiet.where})",  # type: ignore[union-attr]
        }

    def to_dict(self) -> dict[str, Any]:
        """``metrics.json``'s ``pick``: the rule, the tolerance, and both configs' numbers."""
        return {
            "rule": self.pick.rule if self.pick.rule == "best" else f"{self.pick.rule}-within",
            "written": str(self.pick),
            "tolerance": None if self.pick.rule == "best" else self.pick.tolerance,
            "relative": self.pick.relative,
            "threshold": self.threshold,
            "measure": self.measure,
            "notes": self.notes,
            "picked": self.numbers(self.picked),
            "best": self.numbers(self.best),
        }

    def describe(self) -> str:
        """One line: what was picked against the best (empty for ``best``)."""
        if self.pick.rule == "best" or self.measure is None:
            return ""
        picked, best = self.picked, self.best

        def shown(record: TrialRecord) -> str:
            value = self.numbers(record).get(self.measure)  # type: ignore[arg-type]
            return "unmeasured" if value is None else _shown(self.measure, value)  # type: ignore[arg-type]

        head = (
            f"picked trial {picked.number} ({_WORDS[self.measure]} {shown(picked)}, validation "
            f"{picked.score:.4g}) by {self.pick}: the best is trial {best.number} ({shown(best)}, "
            f"{best.score:.4g})"
        )
        return head + "".join(f"; {note}" for note in self.notes)


def _shown(measure: str, value: float) -> str:
    if measure == "size_bytes":
        return f"{value / 1e3:.1f} kB" if value < 1e6 else f"{value / 1e6:.2f} MB"
    if measure == "latency_ms":
        return f"{value:.3g} ms"
    return f"{int(value):,} weights"


def check_pick(info: StudyInfo, pick: Pick | str) -> None:
    """Refuse a pick the study cannot answer, before any work: the smallest config of a study that did
    not search on size (or weights), the fastest of one that did not search on latency.

    Raises:
        UserError: one line naming the study's objectives and the fix.
    """
    pick = parse_pick(pick)
    if pick.rule == "best":
        return
    allowed = _ALLOWED[pick.rule]
    if not set(allowed) & set(info.objectives):
        recorded = ", ".join(info.objectives) or "none"
        raise UserError(
            "{pick} needs a search that traded the score against {what}, but the {dataset} study "
            "recorded no {names} objective (its objectives beyond {metric}: {recorded}): search with "
            "{objectives}, or pick 'best'",
            pick=Argument("pick", str(pick)),
            what=" or ".join(allowed),
            dataset=info.dataset,
            names=" or ".join(allowed),
            metric=info.metric,
            recorded=recorded,
            objectives=Argument("objectives", f"{info.metric},{allowed[0]}", literal=False),
        )


def pick_configs(
    records: list[TrialRecord], info: StudyInfo, pick: Pick | str, *, quiet: QuietFootprint | None = None
) -> Picked:
    """The complete trials a pick retrains, in its order (see the module doc); ``quiet``: the study's
    latencies measured again (used by ``fastest`` while current).

    Raises:
        UserError: no complete trial; a pick the study cannot answer (:func:`check_pick`); no config within
            the tolerance with the measure.
    """
    pick = parse_pick(pick)
    ranked = best_first(records, info.direction)
    if not ranked:
        raise UserError(
            f"study of dataset {info.dataset!r} has no complete trial to retrain; "
            "run or resume the search first"
        )
    best = ranked[0]
    if pick.rule == "best":
        return Picked(pick, best, ranked, info.direction)
    check_pick(info, pick)
    assert best.score is not None
    threshold = pick.threshold(best.score, info.direction)
    within = [r for r in ranked if r.score is not None and pick.within(r.score, best.score, info.direction)]
    notes: list[str] = []
    used: QuietFootprint | None = None
    if pick.rule == "fastest":
        if quiet is not None and quiet.current(records):
            used = quiet
            within = [r for r in quiet.apply(within) if r.latency_ms is not None]
        else:
            notes.append("latencies as each trial measured them during the search (not measured again)")
        objective = "latency"
    else:
        sized = [r for r in within if r.size_bytes is not None]
        objective = "size" if len(sized) == len(within) or not any(r.n_params for r in within) else "params"
        if objective == "params":
            missing = ", ".join(str(r.number) for r in within if r.size_bytes is None)
            notes.append(f"saved size not measured for trial(s) {missing}: picked by weights (n_params)")
    field_name = SECONDARY[objective]
    measured = [r for r in within if measure_of(r, objective) is not None]
    if not measured:
        raise UserError(
            "{pick}: no config within the tolerance of the best validation score ({best:.4g}) has its "
            "{what} measured (a stand-in trainer records none); pick 'best'",
            pick=Argument("pick", str(pick)),
            best=best.score,
            what=_WORDS[field_name],
        )
    if len(measured) < len(within) and used is None:
        missing = ", ".join(str(r.number) for r in within if measure_of(r, objective) is None)
        notes.append(f"trial(s) {missing} within the tolerance have no {objective} measured: left out")
    sign = -1.0 if info.direction == "maximize" else 1.0
    order = sorted(measured, key=lambda r: (measure_of(r, objective), sign * (r.score or 0.0), r.number))
    return Picked(pick, best, order, info.direction, field_name, threshold, notes, used)


def quiet_for(
    policy: RetrainPolicy,
    storage: optuna.storages.BaseStorage | str,
    study_name: str,
    dataset: Dataset,
    space: SearchSpace | None,
) -> QuietFootprint | None:
    """For a pick of the fastest config, the study's fronts measured again in this process (the retrain's:
    the search's workers are gone) with :func:`automl.training.remeasure_front`; else None."""
    if policy.parsed_pick.rule != "fastest":
        return None
    from automl.training import remeasure_front

    return remeasure_front(storage, study_name, dataset, space, where="the retrain")
