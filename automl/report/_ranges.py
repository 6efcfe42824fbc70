"""Range advice: numeric parameters whose best configs crowd an edge of their range; choices that never win.

A range that is too narrow shows in the best trials: they pile up against one bound, and the optimum
probably lies beyond it. :func:`range_advice` reads a study's complete trials and its search space and says,
per declared parameter:

* **at an edge** — of the *top configs* (the best 5 complete trials, or the best 10 % when that is more,
  counting only trials where the parameter is active), at least 60 % (and at least 3) lie in the outer
  10 % of the range at one end, measured on the parameter's own scale: ``log(value)`` for ``log: true``,
  the value itself otherwise. So ``learning_rate`` in ``[1e-4, 1e-2]`` (log) is at its top edge from
  ``10 ** -2.2 ≈ 6.3e-3`` up; ``dropout`` in ``[0, 0.5]`` from ``0.45`` up; an ``Int`` in ``[1, 4]`` only at
  ``1`` and ``4``. The advice proposes a widened bound: one decade further on a log scale (x10 or /10), by
  the range's width on a linear one (on the ``step`` grid if the parameter has one), clipped to what the
  model accepts (fractions such as ``dropout`` stay in ``[0, 1)``, counts of units, layers or epochs stay
  ``>= 1``, a log scale stays above 0). A bound that cannot move further is said to be the limit.
* **never among the top** — values of a choice (or bool) tried at least 3 times that no top config holds
  are listed as candidates to prune from the space.

Per-layer parameters (``units`` with ``per_layer: depth``, sampled as ``units_0 … units_{depth-1}``) are
judged once, on the pooled values of the active layers of the top configs; conditional parameters
(``active_if``) on the trials where they are active only. A parameter with fewer than 10 such complete
trials is not judged (the "top 5" would be half of everything). Pure functions of the records and the
space; no TensorFlow.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from automl.space import Bool, Choice, Fixed, Float, Int, Parameter, SearchSpace
from automl.store import study_space

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["RangeAdvice", "range_advice", "render_range_advice", "run_range_advice", "study_space"]

#: a value lies at an edge when it is within this share of the range (on its scale) from that bound.
EDGE_SHARE = 0.1
#: the top configs crowd an edge when at least this share of their values lies there ...
CROWD_SHARE = 0.6
#: ... and at least this many.
MIN_CROWD = 3
#: the top configs: the best TOP_MIN complete trials, or the best TOP_SHARE of them when that is more.
TOP_MIN = 5
TOP_SHARE = 0.1
#: fewer complete trials (where the parameter is active) than this are not judged.
MIN_TRIALS = 10
#: a choice value counts as tried once this many complete trials (where it is active) held it.
MIN_TRIED = 3

# What the model's config readers accept (automl.model: ``number``/``integer`` with ``low``/``high``), as
# (lowest, highest) a widened bound may reach. Fractions stop short of 1: a dropout, momentum or decay rate
# of 1 is no longer a regulariser or a decay.
_FRACTIONS = {"dropout": 0.99, "momentum": 0.99, "decay_rate": 0.99, "piecewise_drop": 1.0}
_FRACTIONS["cosine_min_fraction"] = 1.0
_COUNTS = {  # at least 1: units, layers, epochs, patience, batch size
    "depth", "units", "blocks", "filters", "dense_units", "convs_per_block", "kernel_size", "decay_every",
    "plateau_patience", "batch_size", "epochs", "patience",
}  # fmt: skip
_NON_NEGATIVE = {"warmup_epochs", "hold_epochs", "l1", "l2", "weight_decay"}
#: zero is no value for these, though a linear range may reach down towards it.
_POSITIVE = {"learning_rate"}


@dataclass(frozen=True)
class RangeAdvice:
    """One piece of advice on a declared parameter's range.

    ``kind`` is ``edge`` (the top configs crowd ``edge``, ``low`` or ``high``, of ``bounds``; ``proposed`` is
    the widened bound, or None when the bound is already the parameter's limit) or ``prune`` (``values``
    never appear among the top configs; ``tried`` says how often each was tried). ``count`` of ``judged``
    values of the ``top`` best configs lie at the edge (per-layer parameters pool their layers' values, so
    ``judged`` may exceed ``top``). ``advice`` is the line to show.
    """

    parameter: str
    kind: str
    advice: str
    top: int
    judged: int
    count: int = 0
    edge: str | None = None
    bounds: tuple[float, float] | None = None
    proposed: float | None = None
    values: tuple[Any, ...] = ()
    tried: tuple[int, ...] = ()
    scale: str | None = None
    per_layer: bool = False
    conditional: bool = False

    def __str__(self) -> str:
        return self.advice

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["bounds"] = list(self.bounds) if self.bounds is not None else None
        out["values"] = list(self.values)
        out["tried"] = list(self.tried)
        return out


def fmt_number(value: float, *, log: bool = False) -> str:
    """A bound for people: ``512`` rather than ``512.0``; on a log scale ``1e-4`` rather than ``0.0001``."""
    if float(value).is_integer() and abs(value) < 1e6:
        return str(int(value))
    if not log and 1e-3 <= abs(value) < 1e6:
        return f"{value:.3g}"
    mantissa, exponent = f"{value:.2e}".split("e")
    mantissa = mantissa.rstrip("0").rstrip(".")
    return f"{mantissa}e{int(exponent)}"


def _limits(p: Parameter, space: SearchSpace) -> tuple[float, float]:
    """The lowest and highest bound ``p``'s range may be widened to."""
    name = p.name
    is_count = name in _COUNTS or any(q.per_layer == name for q in space.declared)
    low = -math.inf
    if name in _FRACTIONS or name in _NON_NEGATIVE:
        low = 0.0
    if is_count:
        low = 1.0
    high = _FRACTIONS.get(name, math.inf)
    return low, high


def _position(value: float, p: Float | Int) -> float:
    """Where ``value`` lies in ``p``'s range on its own scale: 0 at ``low``, 1 at ``high``."""
    low, high, v = float(p.low), float(p.high), float(value)
    if p.log:
        low, high, v = math.log(low), math.log(high), math.log(max(v, p.low))
    return (v - low) / (high - low)


def _widened(p: Float | Int, edge: str, limits: tuple[float, float], name: str) -> float | None:
    """The bound one decade (log) or one range width (linear) beyond ``edge``, clipped to ``limits``; None
    when it cannot move."""
    low, high = float(p.low), float(p.high)
    lowest, highest = limits
    if p.log:
        lowest = max(lowest, 0.0)
        proposed = high * 10 if edge == "high" else low / 10
    else:
        width = high - low
        if p.step is not None:
            width = p.step * math.ceil(width / p.step - 1e-9)
        proposed = high + width if edge == "high" else low - width
        if edge == "low" and name in _POSITIVE and proposed <= 0:
            proposed = low / 10
    if isinstance(p, Int):
        proposed = math.ceil(proposed) if edge == "high" else math.floor(proposed)
        if p.log:
            lowest = max(lowest, 1.0)
    proposed = min(max(proposed, lowest), highest)
    if p.step is not None and not p.log:  # stay on the grid, inside the limits
        k = (proposed - low) / p.step
        k = math.floor(k + 1e-9) if edge == "high" else math.ceil(k - 1e-9)
        proposed = low + k * p.step
    proposed = int(proposed) if isinstance(p, Int) else float(f"{proposed:.12g}")  # 1e-5 / 10 is 1e-6
    moved = proposed > high if edge == "high" else proposed < low
    return proposed if moved else None


def _copies(p: Parameter, space: SearchSpace) -> list[Parameter]:
    """The parameters of ``space`` that ``p`` expanded into (itself, or its per-layer copies)."""
    if p.per_layer is None:
        return [space[p.name]] if p.name in space else []
    out, i = [], 0
    while f"{p.name}_{i}" in space:
        out.append(space[f"{p.name}_{i}"])
        i += 1
    return out


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def _label(p: Parameter, conditional: bool) -> str:
    if p.per_layer is not None:
        return f"{p.name} (per layer)"
    return f"{p.name} (where active)" if conditional else p.name


def _edge_advice(
    p: Float | Int, space: SearchSpace, values: list[float], top: int, *, per_layer: bool, conditional: bool
) -> RangeAdvice | None:
    if p.high <= p.low:
        return None
    positions = [_position(v, p) for v in values]
    counts = {
        "low": sum(1 for u in positions if u <= EDGE_SHARE),
        "high": sum(1 for u in positions if u >= 1 - EDGE_SHARE),
    }
    needed = max(MIN_CROWD, math.ceil(CROWD_SHARE * len(values) - 1e-9))
    edge = max(counts, key=counts.__getitem__)
    if counts[edge] < needed:
        return None
    limits = _limits(p, space)
    proposed = _widened(p, edge, limits, p.name)
    bounds = (float(p.low), float(p.high))
    share = (
        f"{counts[edge]} of the {len(values)} layer values of the top {top}"
        if per_layer
        else f"{counts[edge]} of the top {top}"
    )
    where = "top" if edge == "high" else "bottom"
    declared = "[" + ", ".join(fmt_number(b, log=p.log) for b in bounds) + "]"
    if proposed is not None:
        end = f"widen to {fmt_number(proposed, log=p.log)}"
    else:
        end = f"already the {'highest' if edge == 'high' else 'lowest'} value {p.name} allows"
    return RangeAdvice(
        parameter=p.name,
        kind="edge",
        advice=f"{_label(p, conditional)}: {share} at the {where} edge of {declared} — {end}",
        top=top,
        judged=len(values),
        count=counts[edge],
        edge=edge,
        bounds=bounds,
        proposed=None if proposed is None else float(proposed),
        scale="log" if p.log else "linear",
        per_layer=per_layer,
        conditional=conditional,
    )


def _prune_advice(
    p: Choice | Bool, all_values: list[Any], top_values: list[Any], top: int, *, conditional: bool
) -> RangeAdvice | None:
    domain = list(p.values) if isinstance(p, Choice) else [False, True]
    if len(domain) < 2:
        return None

    def key(value: Any) -> tuple[str, Any]:
        return (type(value).__name__ if isinstance(value, bool) else "value", value)

    tried = Counter(key(v) for v in all_values)
    winners = {key(v) for v in top_values}
    losers = [v for v in domain if tried[key(v)] >= MIN_TRIED and key(v) not in winners]
    if not losers:
        return None
    names = ", ".join(f"{_text(v)} (tried {tried[key(v)]}×)" for v in losers)
    what = "candidate" if len(losers) == 1 else "candidates"
    return RangeAdvice(
        parameter=p.name,
        kind="prune",
        advice=f"{_label(p, conditional)}: never among the top {top}: {names} — {what} to prune",
        top=top,
        judged=len(top_values),
        values=tuple(losers),
        tried=tuple(tried[key(v)] for v in losers),
        per_layer=p.per_layer is not None,
        conditional=conditional,
    )


def _text(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def range_advice(records: Sequence[Any], space: SearchSpace, direction: str) -> list[RangeAdvice]:
    """Advice on the ranges of ``space`` from a study's trials: edges crowded by the best configs first,
    then choice values never among them (see the module's docstring for the rules and thresholds).

    Args:
        records: The study's :class:`automl.store.TrialRecord` (only complete trials with a score count).
        space: The space the study searched (:meth:`automl.store.SpaceEntry.space`).
        direction: ``maximize`` or ``minimize``, the study's direction.
    """
    from automl.store import best_first

    ranked = best_first(list(records), direction)
    edges: list[RangeAdvice] = []
    prunes: list[RangeAdvice] = []
    for declared in space.declared:
        if isinstance(declared, Fixed):
            continue
        copies = _copies(declared, space)
        per_layer = declared.per_layer is not None
        conditional = bool(declared.active_if)
        rows: list[list[Any]] = []
        for record in ranked:
            config: Mapping[str, Any] = record.config or record.params
            values = [config[q.name] for q in copies if q.name in config and SearchSpace.is_active(q, config)]
            if values:
                rows.append(values)
        if len(rows) < MIN_TRIALS or not copies:
            continue
        top = max(TOP_MIN, math.ceil(TOP_SHARE * len(rows) - 1e-9))
        top_values = [v for row in rows[:top] for v in row]
        if isinstance(declared, Int | Float):
            numbers = [n for n in map(_number, top_values) if n is not None]
            if numbers:
                found = _edge_advice(
                    declared, space, numbers, top, per_layer=per_layer, conditional=conditional
                )
                if found is not None:
                    edges.append(found)
        elif isinstance(declared, Choice | Bool):
            everything = [v for row in rows for v in row]
            found = _prune_advice(declared, everything, top_values, top, conditional=conditional)
            if found is not None:
                prunes.append(found)
    return edges + prunes


def run_range_advice(run_dir: str | Path, studies: Sequence[str]) -> dict[str, list[RangeAdvice]]:
    """:func:`range_advice` of each of ``studies`` of the run in ``run_dir`` (none if its space is gone)."""
    from automl.store import load_records, load_study_info, open_run

    _, manifest, storage = open_run(run_dir)
    out: dict[str, list[RangeAdvice]] = {}
    for name in studies:
        info = load_study_info(storage, name)
        space = study_space(manifest, info)
        out[name] = [] if space is None else range_advice(load_records(storage, name), space, info.direction)
    return out


def render_range_advice(advice: Sequence[RangeAdvice], fmt: str, title: str) -> str:
    """Advice as text lines (``table``), a Markdown list or a CSV table; empty when there is none."""
    if not advice:
        return ""
    if fmt == "csv":
        import csv
        import io

        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(("parameter", "kind", "advice"))
        writer.writerows((a.parameter, a.kind, a.advice) for a in advice)
        return buffer.getvalue()
    if fmt == "markdown":  # a blank line first: a table before it would swallow the lines as rows
        return "\n".join(["", f"**{title}**", "", *(f"- {a.advice}" for a in advice)]) + "\n"
    return "\n".join([title, *(f"  • {a.advice}" for a in advice)]) + "\n"
