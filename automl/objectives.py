"""What a search optimises beyond its score: the model's weights, its saved size or its latency.

``--objective accuracy,latency`` (``objectives=`` in Python, ``objective:`` in an experiment file) names the
score and any of :data:`SECONDARY`, each minimised. The score part is the metric ``--metric`` (or a space's
``objective:``) names today; the three are one setting: ``--objective`` may name the score, ``--metric``
may too, and they must agree (a contradiction is one line). Naming only secondary objectives keeps the
score ``--metric`` / the space's. With a secondary objective the Optuna backend runs a multi-objective
study (see :mod:`automl.backends.optuna`); every trial records all three measures either way.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from automl.exceptions import Argument, UserError, did_you_mean

__all__ = ["SECONDARY", "Objectives", "parse_objectives"]

#: secondary objective -> the trial record's field that measures it (each minimised)
SECONDARY: dict[str, str] = {"params": "n_params", "size": "size_bytes", "latency": "latency_ms"}
#: what each secondary objective means, in the units the leaderboard shows
UNITS: dict[str, str] = {"params": "weights", "size": "bytes saved", "latency": "ms per row, batch 1"}


@dataclass(frozen=True)
class Objectives:
    """The score's metric (None: the space's or the task's default) and the secondary objectives."""

    metric: str | None
    secondary: tuple[str, ...] = ()


def parse_objectives(given: str | Sequence[str] | None, metric: str | None) -> Objectives:
    """Read ``--objective`` (``"accuracy,latency"`` or a list) beside ``--metric``.

    Raises:
        UserError: an unknown name, a secondary objective named twice, two score metrics, or a score
            metric other than ``metric``'s.
    """
    from automl.metrics import metric_names

    if given is None:
        return Objectives(metric)
    names = [n.strip() for n in (given.split(",") if isinstance(given, str) else given) if n.strip()]
    scores = [n for n in names if n not in SECONDARY]
    known = [*metric_names(), *SECONDARY]
    for name in scores:
        if name not in metric_names():
            raise UserError(
                "{objective}: unknown objective {name!r}{hint}; "
                "give a metric and any of params, size, latency",
                objective=Argument("objectives"),
                name=name,
                hint=did_you_mean(name, known),
            )
    if len(scores) > 1:
        raise UserError(
            "{objective} names two scores ({scores}); give one metric and any of params, size, latency",
            objective=Argument("objectives"),
            scores=", ".join(scores),
        )
    secondary = tuple(n for n in names if n in SECONDARY)
    if len(set(secondary)) < len(secondary):
        raise UserError("{objective} names an objective twice", objective=Argument("objectives"))
    score = scores[0] if scores else None
    if score is not None and metric is not None and score != metric:
        raise UserError(
            "{objective} scores by {score} but {metric_flag} says {metric}: give the score once",
            objective=Argument("objectives"),
            score=score,
            metric_flag=Argument("metric"),
            metric=metric,
        )
    return Objectives(score or metric, secondary)
