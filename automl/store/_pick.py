"""Which config the retrain deploys: the best, or the smallest / fastest within a tolerance of the best.

``pick`` of the retrain policy, written ``best``, ``smallest-within TOL`` or ``fastest-within TOL``. TOL is
how much validation score the user gives up for a smaller or faster model: a number in the metric's own
units (``0.005``: half a point of accuracy, or 0.005 of RMSE), or a percentage of the best score
(``1%``: within 1 % of its magnitude). ``smallest`` picks by saved size (weights where the size was not
measured), ``fastest`` by latency at batch 1 (measured again in one quiet process first: see
:mod:`automl.store._quiet`). No TensorFlow here.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Literal

__all__ = ["PICK_FORMS", "Pick", "parse_pick"]

Rule = Literal["best", "smallest", "fastest"]

#: how a pick is written, for messages.
PICK_FORMS = "best, smallest-within TOL or fastest-within TOL (TOL: 0.005 in the metric's units, or 1%)"

_PICK = re.compile(r"^(?P<rule>smallest|fastest)-within(?:\s+(?P<tol>\S+))?$")
_NUMBER = re.compile(r"^(?:\d+(?:\.\d*)?|\.\d+)(?:e[-+]?\d+)?$")
#: the secondary objective each rule minimises (automl.objectives.SECONDARY)
_OBJECTIVE = {"smallest": "size", "fastest": "latency"}


@dataclass(frozen=True)
class Pick:
    """A parsed pick: ``rule``, and for ``smallest`` / ``fastest`` the ``tolerance`` (a score difference,
    or with ``relative`` a fraction of the best score's magnitude: ``1%`` is 0.01)."""

    rule: Rule = "best"
    tolerance: float = 0.0
    relative: bool = False

    def __str__(self) -> str:
        if self.rule == "best":
            return "best"
        tol = f"{100 * self.tolerance:g}%" if self.relative else f"{self.tolerance:g}"
        return f"{self.rule}-within {tol}"

    @property
    def objective(self) -> str | None:
        """The secondary objective the pick minimises (``size``, ``latency``), None for ``best``."""
        return _OBJECTIVE.get(self.rule)

    def margin(self, best: float) -> float:
        """The score a config may give up against ``best``: the tolerance, or its share of ``|best|``."""
        return self.tolerance * abs(best) if self.relative else self.tolerance

    def threshold(self, best: float, direction: str) -> float:
        """The worst score a picked config may have."""
        return best - self.margin(best) if direction == "maximize" else best + self.margin(best)

    def within(self, score: float, best: float, direction: str) -> bool:
        """Whether ``score`` is within the tolerance of ``best`` (a rounding error of the subtraction
        forgiven: 0.94 is within 0.01 of 0.95)."""
        slack = 1e-9 * max(1.0, abs(best))
        limit = self.threshold(best, direction)
        return score >= limit - slack if direction == "maximize" else score <= limit + slack


def parse_pick(value: object) -> Pick:
    """``value`` (``"best"``, ``"smallest-within 0.005"``, ``"fastest-within 1%"`` or a :class:`Pick`)
    as a :class:`Pick`.

    Raises:
        ValueError: anything else, with the reason in words (the policy words it for its caller).
    """
    if isinstance(value, Pick):
        return value
    if not isinstance(value, str):
        raise ValueError(f"give {PICK_FORMS}, not {value!r}")
    text = " ".join(value.strip().lower().split())
    if text == "best":
        return Pick()
    match = _PICK.match(text)
    if match is None:
        raise ValueError(f"give {PICK_FORMS}, not {value!r}")
    rule, tol = match.group("rule"), match.group("tol")
    if tol is None:
        raise ValueError(
            f"{rule}-within needs a tolerance: {rule}-within 0.005 (in the metric's units) "
            f"or {rule}-within 1% (of the best score)"
        )
    relative = tol.endswith("%")
    number = tol[:-1] if relative else tol
    if not _NUMBER.match(number) or not math.isfinite(float(number)):
        raise ValueError(f"{rule}-within takes a tolerance of 0 or more, such as 0.005 or 1%, not {tol!r}")
    return Pick(rule, float(number) / 100 if relative else float(number), relative)  # type: ignore[arg-type]
