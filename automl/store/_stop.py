"""Why a search stopped before its budget was spent: one record in the study's user attributes.

The process that decides a study-wide stop (the stall rule, the failure streak; see
:class:`automl.engine.SearchSession`) writes it; every process of the search reads the same trials, so
they decide alike and the record says the same whoever wrote it. The search that starts next on the study
(a resume) clears it (:func:`clear_stop`). Leaderboards and the report read it to say why the search
ended. No TensorFlow here.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from automl.outcomes import SearchStop

if TYPE_CHECKING:
    import optuna

__all__ = ["STOP_ATTR", "SearchStopped", "clear_stop", "load_stop", "read_stop", "record_stop"]

#: the study user attribute holding the record (a JSON object; null once cleared).
STOP_ATTR = "automl.stopped"


def _score(value: float) -> str:
    if value != 0 and (abs(value) < 1e-3 or abs(value) >= 1e5):
        return f"{value:.4g}"
    return f"{value:.4f}"


def _span(seconds: float) -> str:
    """``600`` → ``10m``, ``5400`` → ``1.5h``, ``45`` → ``45s``: as ``--stop-stalled`` takes them."""
    if seconds >= 3600:
        return f"{seconds / 3600:g}h"
    if seconds >= 60:
        return f"{seconds / 60:g}m"
    return f"{seconds:g}s"


@dataclass(frozen=True)
class SearchStopped:
    """Why a search stopped early (:class:`~automl.outcomes.SearchStop`) and the numbers that say so.

    Args:
        reason: The rule that stopped it.
        trials: Stalled: the finished trials in a row that brought no improvement; failures: the failed
            trials in a row; over the limit: the configs proposed over it.
        seconds: Stalled by time: how long no trial improved the best score.
        best: The study's best score when it stopped (None before any complete trial).
        best_trial: The number of the trial that holds it.
        at: When the stop was decided (ISO time).
    """

    reason: SearchStop
    trials: int | None = None
    seconds: float | None = None
    best: float | None = None
    best_trial: int | None = None
    at: str | None = None

    def describe(self) -> str:
        """One line: ``no improvement over 15 trials (best 0.9833 at trial 12)``."""
        if self.reason is SearchStop.FAILURES:
            return f"{self.trials} trials failed in a row"
        if self.reason is SearchStop.OVER_LIMIT:
            return f"{self.trials} configs proposed over the search's limits and none found within them"
        span = f"for {_span(self.seconds)}" if self.seconds is not None else f"over {self.trials} trials"
        if self.best is None or not math.isfinite(self.best):
            return f"no improvement {span} (no complete trial)"
        return f"no improvement {span} (best {_score(self.best)} at trial {self.best_trial})"

    def to_attr(self) -> dict[str, Any]:
        return {
            "reason": self.reason.value,
            "trials": self.trials,
            "seconds": self.seconds,
            "best": self.best,
            "best_trial": self.best_trial,
            "at": self.at or datetime.now().isoformat(timespec="seconds"),
        }

    @classmethod
    def from_attr(cls, value: Any) -> SearchStopped | None:
        """The record of an attribute's value; None for none, a cleared one, or one a later automl wrote
        with a reason this one does not know."""
        if not isinstance(value, Mapping):
            return None
        try:
            reason = SearchStop(value.get("reason"))
        except ValueError:
            return None
        return cls(
            reason=reason,
            trials=value.get("trials"),
            seconds=value.get("seconds"),
            best=value.get("best"),
            best_trial=value.get("best_trial"),
            at=value.get("at"),
        )


def record_stop(study: optuna.Study, stopped: SearchStopped) -> None:
    study.set_user_attr(STOP_ATTR, stopped.to_attr())


def clear_stop(study: optuna.Study) -> None:
    """Forget the last search's stop: a search starting on the study decides its own."""
    if study.user_attrs.get(STOP_ATTR) is not None:
        study.set_user_attr(STOP_ATTR, None)


def read_stop(attrs: Mapping[str, Any]) -> SearchStopped | None:
    """The stop recorded in a study's user attributes ``attrs``, if any."""
    return SearchStopped.from_attr(attrs.get(STOP_ATTR))


def load_stop(storage: optuna.storages.BaseStorage | str, name: str) -> SearchStopped | None:
    """The stop recorded in study ``name`` of ``storage``, if any."""
    import optuna

    try:
        study = optuna.load_study(study_name=name, storage=storage)
    except KeyError:
        return None
    return read_stop(study.user_attrs)
