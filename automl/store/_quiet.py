"""The front measured again in one quiet process: one record in the study's user attributes.

During a search each trial times its model in its own process, right after training, while other workers
may be training beside it: a neighbour's burst can double a latency. After the search (its workers gone),
:func:`automl.training.remeasure_front` measures the configs of the fronts again, one after another in one
process, and records what it measured here. Those latencies compare with each other; the trials' own do
not quite. The leaderboard's front, the report and ``pick='fastest-within …'`` use them wherever a record
is current (:meth:`QuietFootprint.current`).

It is a study attribute, not the trials' own: Optuna refuses to change a finished trial's attributes.
No TensorFlow here.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from automl.store._records import TrialRecord, TrialState, _json_safe

if TYPE_CHECKING:
    import optuna

__all__ = ["QUIET_ATTR", "QuietFootprint", "load_quiet", "read_quiet", "record_quiet"]

#: the study user attribute holding the record (a JSON object).
QUIET_ATTR = "automl.quiet_footprint"
#: what each re-measured trial holds, named as the trial record's fields
MEASURES = ("size_bytes", "latency_ms", "latency_ms_256")


@dataclass(frozen=True)
class QuietFootprint:
    """The configs measured again after a search, in one process, one after another.

    Args:
        trials: Trial number -> ``{"size_bytes", "latency_ms", "latency_ms_256"}`` measured again.
        last_trial: The largest number of a complete trial when they were measured: a trial that finished
            later is not among them, so the record is no longer the front's (:meth:`current`).
        at: When (ISO time).
        where: The process that measured them, in words (``"after the search"``, ``"the retrain"``).
    """

    trials: Mapping[int, Mapping[str, float]] = field(default_factory=dict)
    last_trial: int = -1
    at: str = ""
    where: str = ""

    def to_attr(self) -> dict[str, Any]:
        value = {
            "trials": {str(n): dict(m) for n, m in sorted(self.trials.items())},
            "last_trial": self.last_trial,
            "at": self.at,
            "where": self.where,
        }
        return dict(_json_safe(value))

    @classmethod
    def from_attr(cls, value: Any) -> QuietFootprint | None:
        """The record of a stored value; None for none, or one an automl of another shape wrote."""
        if not isinstance(value, Mapping) or not isinstance(value.get("trials"), Mapping):
            return None
        trials: dict[int, dict[str, float]] = {}
        for key, measured in value["trials"].items():
            if not (str(key).isdigit() and isinstance(measured, Mapping)):
                continue
            numbers = {
                k: float(measured[k])
                for k in MEASURES
                if isinstance(measured.get(k), int | float) and math.isfinite(float(measured[k]))
            }
            trials[int(key)] = numbers
        last = value.get("last_trial")
        return cls(
            trials=trials,
            last_trial=last if isinstance(last, int) else -1,
            at=str(value.get("at") or ""),
            where=str(value.get("where") or ""),
        )

    def current(self, records: Sequence[TrialRecord]) -> bool:
        """Whether no complete trial finished after the measuring: the record then holds the fronts'
        configs as the study stands (a resumed search adds trials; measure again after it)."""
        return bool(self.trials) and all(
            r.number <= self.last_trial for r in records if r.state is TrialState.COMPLETE
        )

    def apply(self, records: Sequence[TrialRecord]) -> list[TrialRecord]:
        """``records`` with the latencies measured again; every other trial's latency is left out (None),
        as numbers measured beside a busy neighbour do not compare with these. Sizes stay (a config's
        saved size is the same wherever it is measured)."""
        out = []
        for record in records:
            measured = self.trials.get(record.number)
            if measured is None:
                out.append(dataclasses.replace(record, latency_ms=None, latency_ms_256=None))
            else:
                out.append(
                    dataclasses.replace(
                        record,
                        latency_ms=measured.get("latency_ms"),
                        latency_ms_256=measured.get("latency_ms_256"),
                        size_bytes=int(measured["size_bytes"])
                        if "size_bytes" in measured
                        else record.size_bytes,
                    )
                )
        return out


def read_quiet(attrs: Mapping[str, Any]) -> QuietFootprint | None:
    """The record in a study's user attributes, or None."""
    return QuietFootprint.from_attr(attrs.get(QUIET_ATTR))


def load_quiet(storage: optuna.storages.BaseStorage | str, name: str) -> QuietFootprint | None:
    """The record of study ``name``, or None."""
    import optuna

    return read_quiet(optuna.load_study(study_name=name, storage=storage).user_attrs)


def record_quiet(storage: optuna.storages.BaseStorage | str, name: str, quiet: QuietFootprint) -> None:
    """Write ``quiet`` as study ``name``'s record (replacing an earlier one: one measuring, one process)."""
    import optuna

    optuna.load_study(study_name=name, storage=storage).set_user_attr(QUIET_ATTR, quiet.to_attr())
