"""Choosing an ensemble's members by what they add to it, not by their scores alone (``ensemble_from``).

The default ensemble averages the top K configs by validation score. Five configs that sit side by side
in the space make the same mistakes, and averaging them removes little; a config ranked seventh that
errs elsewhere may remove more. With ``ensemble_from=N`` each of the top N complete configs is trained
once more on the search's training split, with the trial's seed plus one (a fresh draw, which the search
did not select on), and its outputs on the validation rows are kept. Members are then chosen greedily
(forward selection, as in Caruana et al., "Ensemble selection from libraries of models", ICML 2004): the
config with the lowest validation loss first, then at each step the config whose outputs, averaged with
those chosen, give the ensemble the lowest validation loss, until K are chosen. The ensemble keeps its
size even where a further member raises the loss a little: stopping there was measured and lost, its two-
or three-member ensembles falling behind the default five (``benchmarks/results/lever_select.md``). The
loss is the log loss of the averaged class probabilities, or the squared error of the averaged values
(in standardised units): smooth where accuracy is a step, and what averaging acts on. Each member enters
once, so the deployed model stays a plain average. Off by default: against the default five at 60 s on
the five mid-size cases it was ahead on one, level on two and behind on two (``lever_select_fill.md``).

The second fits are re-scoring's (:func:`._rescore.second_fits`): at most half of the retrain's time
limit, ending at the first config whose fit would not fit, so a cheap config further down never replaces
a slow one above it. A config whose fit fails (a NaN loss, out of memory) is left out of the library.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from automl.exceptions import Argument, UserError
from automl.retrain._rescore import second_fits

if TYPE_CHECKING:
    from automl.datasets import Dataset
    from automl.store import StudyInfo, TrialRecord

__all__ = [
    "Selection",
    "check_selection",
    "describe_selection",
    "greedy_members",
    "select_members",
    "validation_loss",
]

#: probabilities are clipped to this before the log, so one confident mistake costs a bounded loss
_EPSILON = 1e-7


@dataclass
class Selection:
    """What ensemble selection did: the library it trained, the members it chose, and why it stopped."""

    #: the top configs in search order: ``trial``, ``search_score``, ``loss`` (its validation loss alone;
    #: None when not trained), ``seconds``, ``failure`` ("time limit", or how its fit failed)
    library: list[dict[str, Any]] = field(default_factory=list)
    #: trial numbers in the order chosen
    members: list[int] = field(default_factory=list)
    #: the ensemble's validation loss after each member joined
    losses: list[float] = field(default_factory=list)
    #: "size": K were chosen; "library": fewer than K configs were trained
    stopped: str = "library"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def check_selection(info: StudyInfo, ensemble_from: int) -> None:
    """Refuse ``ensemble_from`` for a study whose scores are cross-validated (one line, the fix in it)."""
    if ensemble_from and info.cv >= 2:
        raise UserError(
            "the search scored each config by {cv}-fold cross-validation, and its retrain deploys bags of "
            "fold models; ensemble selection chooses on one held-out split: retrain without {ensemble_from}",
            cv=info.cv,
            ensemble_from=Argument("ensemble_from"),
        )


def validation_loss(outputs: np.ndarray, truth: np.ndarray, *, classification: bool) -> float:
    """Log loss of class probabilities ``outputs`` (n, k) against labels, or the mean squared error."""
    if classification:
        rows = np.arange(len(truth))
        chosen = np.clip(outputs[rows, truth.astype(int)], _EPSILON, 1.0)
        return float(-np.mean(np.log(chosen)))
    return float(np.mean((outputs.reshape(-1) - truth.reshape(-1)) ** 2))


def greedy_members(
    outputs: dict[int, np.ndarray], truth: np.ndarray, size: int, *, classification: bool
) -> tuple[list[int], list[float], str]:
    """Forward selection without replacement: ``(members, losses, stopped)`` (see :class:`Selection`).

    ``outputs`` maps each candidate (in preference order, which breaks ties) to its validation outputs.
    """
    members: list[int] = []
    losses: list[float] = []
    total: np.ndarray | None = None
    while len(members) < size:
        best: tuple[float, int] | None = None
        for key, output in outputs.items():
            if key in members:
                continue
            mixed = output if total is None else (total + output) / (len(members) + 1)
            loss = validation_loss(mixed, truth, classification=classification)
            if math.isfinite(loss) and (best is None or loss < best[0]):
                best = (loss, key)
        if best is None:
            return members, losses, "library"
        members.append(best[1])
        losses.append(best[0])
        added = outputs[best[1]]
        total = added.copy() if total is None else total + added
    return members, losses, "size"


def select_members(
    order: list[TrialRecord],
    dataset: Dataset,
    info: StudyInfo,
    library_size: int,
    size: int,
    *,
    time_limit: float | None,
) -> tuple[list[TrialRecord], Selection]:
    """``order`` (best validation score first) with the chosen members first, in the order chosen, and
    the selection. Only the first ``len(selection.members)`` of the order are members.

    ``time_limit``: the retrain's (None: none); the library's fits take at most half of it.
    """
    from automl.metrics import probabilities
    from automl.training import predict

    check_selection(info, library_size)
    classification = dataset.task.is_classification
    truth = np.asarray(dataset.y_val)
    selection = Selection()
    outputs: dict[int, np.ndarray] = {}
    for record, result, seconds in second_fits(order[:library_size], dataset, info, time_limit=time_limit):
        if result is None:
            selection.library.append(_entry(record, failure="time limit"))
            continue
        if result.failure is not None:
            selection.library.append(_entry(record, seconds=seconds, failure=str(result.failure)))
            continue
        output = predict(result.model, dataset.x_val)
        output = probabilities(output) if classification else output.reshape(-1)
        loss = validation_loss(output, truth, classification=classification)
        if not math.isfinite(loss):
            selection.library.append(_entry(record, seconds=seconds, failure="no finite validation loss"))
            continue
        outputs[record.number] = output
        selection.library.append(_entry(record, seconds=seconds, loss=loss))
    selection.members, selection.losses, selection.stopped = greedy_members(
        outputs, truth, size, classification=classification
    )
    if not selection.members:  # no fit to choose from: the search's order stands
        return order, selection
    by_number = {r.number: r for r in order}
    chosen = [by_number[n] for n in selection.members]
    return chosen + [r for r in order if r.number not in selection.members], selection


def _entry(
    record: TrialRecord, *, seconds: float = 0.0, loss: float | None = None, failure: str | None = None
) -> dict[str, Any]:
    return {
        "trial": record.number,
        "search_score": record.score,
        "loss": None if loss is None else round(loss, 6),
        "seconds": round(seconds, 2),
        "failure": failure,
    }


def describe_selection(selection: Selection, default: list[int]) -> str:
    """One line: the library trained, the members chosen, and the top K they replace."""
    trained = [e for e in selection.library if e["loss"] is not None]
    seconds = sum(e["seconds"] for e in selection.library)
    line = (
        f"ensemble selection trained {len(trained)} of the top {len(selection.library)} configs "
        f"({seconds:.0f} s)"
    )
    left_out = [e["trial"] for e in selection.library if e["failure"] == "time limit"]
    if left_out:
        line += f"; the time limit left out trials {_numbers(left_out)}"
    if not selection.members:
        return line + "; no config to choose from: the top configs by search score stay"
    line += f"; chose trials {_numbers(selection.members)}"
    if selection.members != default[: len(selection.members)] or len(selection.members) != len(default):
        line += f" (the top {len(default)} by search score: {_numbers(default)})"
    return line


def _numbers(numbers: list[int]) -> str:
    return ", ".join(str(n) for n in numbers)
