"""Learning-curve diagnosis: under-fit, over-fit, unstable or balanced, with one line of advice.

A person reading a trial's curves asks a few questions in order, and so does :func:`diagnose`:

1. Did training break down? A training loss that is not finite, that ends above where it started, or a
   validation loss that zig-zags (many direction changes, each large against the curve's range) means
   the steps are too large: **unstable**.
2. Did the model stop generalising? A validation loss that rises clearly after its minimum while the
   training loss keeps falling is **over-fitting**.
3. Did the model learn enough? A training loss that barely fell, a validation loss still falling fast
   when training stopped, or a validation score that does not beat the dataset's best baseline is
   **under-fitting**.
4. Otherwise the validation loss levelled off near its minimum: **balanced**.

Pure functions of the stored per-epoch history (``loss``, ``val_loss`` and the metrics); no TensorFlow.
Thresholds are relative to each curve's own range, so they hold for losses of any scale.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["LABELS", "Diagnosis", "diagnose", "diagnose_trials"]

#: every label :func:`diagnose` gives; ``unknown`` when the curves are too short or absent.
LABELS = ("under-fit", "over-fit", "unstable", "balanced", "unknown")

#: fewer epochs than this say nothing about a curve's shape.
MIN_EPOCHS = 3
#: a rise after the minimum counts once it exceeds this share of the fall before it (or of the minimum).
RISE_SHARE = 0.15
#: a step counts as a direction change only when it is at least this share of the curve's range.
JITTER_SHARE = 0.1
#: a still-improving curve falls, over its last quarter, at least this share of its mean rate per epoch.
TAIL_SHARE = 0.4
#: training that lowered its loss by less than this share of its start has not learnt.
LEARNT_SHARE = 0.1


@dataclass(frozen=True)
class Diagnosis:
    """What a trial's curves say: ``label`` (one of :data:`LABELS`), ``advice`` (one line), ``epoch``.

    ``epoch`` is the 1-based epoch the diagnosis points at (the validation minimum), or None.
    ``evidence`` holds the numbers the rule read, for a report to show.
    """

    label: str
    advice: str
    epoch: int | None = None
    evidence: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.label}: {self.advice}"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _finite(values: Sequence[Any] | None) -> list[float]:
    out: list[float] = []
    for value in values or []:
        if value is None:
            break
        number = float(value)
        if not math.isfinite(number):
            break
        out.append(number)
    return out


def _direction_changes(curve: list[float]) -> int:
    """Sign changes between steps that are large against the curve's range (small wobbles ignored)."""
    span = max(curve) - min(curve)
    if span <= 0:
        return 0
    signs = [1 if b > a else -1 for a, b in itertools.pairwise(curve) if abs(b - a) >= JITTER_SHARE * span]
    return sum(1 for a, b in itertools.pairwise(signs) if a != b)


def _better(a: float, b: float, maximize: bool) -> bool:
    return a > b if maximize else a < b


def diagnose(
    history: Mapping[str, Sequence[Any]],
    *,
    metric: str | None = None,
    direction: str = "maximize",
    baseline: float | None = None,
    stopped_by: str | None = None,
) -> Diagnosis:
    """Label one trial's learning curves and advise what to try next.

    Args:
        history: Per-epoch lists as training stores them: ``loss`` and ``val_loss`` at least; a trial's
            :attr:`automl.store.TrialRecord.history` or a retrained model's ``history.json``.
        metric: The validation objective (``val_<metric>`` in ``history``), compared with ``baseline``.
        direction: ``maximize`` or ``minimize``, the metric's direction.
        baseline: The strongest baseline's validation score; a model that does not beat it under-fits.
        stopped_by: How the fit ended (``early_stopping`` changes the over-fitting advice: the weights of
            the best epoch were kept already).
    """
    train = _finite(history.get("loss"))
    val = _finite(history.get("val_loss"))
    raw_train = list(history.get("loss") or [])
    if raw_train and len(train) < len(raw_train):
        return Diagnosis(
            "unstable",
            f"training loss became non-finite in epoch {len(train) + 1}: the fit diverged; lower the "
            "learning rate, add batch normalisation or clip gradients",
            len(train) + 1,
        )
    if len(val) < MIN_EPOCHS or len(train) < MIN_EPOCHS:
        return Diagnosis(
            "unknown",
            f"{max(len(val), len(train))} epoch(s) of curves: too few to judge; run at least {MIN_EPOCHS}",
        )
    n = min(len(train), len(val))
    train, val = train[:n], val[:n]
    best = min(range(n), key=val.__getitem__)
    v_min, v_first, v_last = val[best], val[0], val[-1]
    fall = v_first - v_min
    rise = v_last - v_min
    evidence: dict[str, Any] = {
        "epochs": n,
        "best_epoch": best + 1,
        "val_loss_min": v_min,
        "val_loss_last": v_last,
        "train_loss_first": train[0],
        "train_loss_last": train[-1],
    }

    changes = _direction_changes(val)
    evidence["direction_changes"] = changes
    if train[-1] > train[0]:
        return Diagnosis(
            "unstable",
            f"training loss ended higher than it started ({train[0]:.3g} → {train[-1]:.3g}): steps too "
            "large; lower the learning rate or use a decaying schedule",
            best + 1,
            evidence,
        )
    if n >= 5 and changes >= max(3, (n - 1) // 2):
        return Diagnosis(
            "unstable",
            f"validation loss changes direction {changes} times in {n} epochs: noisy training; lower the "
            "learning rate, raise the batch size or add batch normalisation",
            best + 1,
            evidence,
        )

    after = n - 1 - best
    train_falls_after = after > 0 and train[-1] < train[best]
    if after >= 2 and train_falls_after and rise > RISE_SHARE * max(fall, abs(v_min) * 0.1, 1e-12):
        kept = f" (early stopping kept epoch {best + 1}'s weights)" if stopped_by == "early_stopping" else ""
        return Diagnosis(
            "over-fit",
            f"validation loss rises after epoch {best + 1} while training loss falls: over-fitting{kept}; "
            "try stronger L2 or dropout, a smaller network, or earlier stopping",
            best + 1,
            evidence,
        )

    learnt = train[0] - train[-1]
    if learnt < LEARNT_SHARE * abs(train[0]):
        return Diagnosis(
            "under-fit",
            f"training loss barely fell ({train[0]:.3g} → {train[-1]:.3g}): under-fitting; raise the "
            "learning rate, widen or deepen the network, or weaken regularisation",
            best + 1,
            evidence,
        )
    scores = _finite(history.get(f"val_{metric}")) if metric else []
    if scores and baseline is not None and math.isfinite(baseline):
        maximize = direction == "maximize"
        top = max(scores) if maximize else min(scores)
        evidence["best_score"] = top
        if not _better(top, baseline, maximize):
            return Diagnosis(
                "under-fit",
                f"best validation {metric} {top:.4g} does not beat the baseline's {baseline:.4g}: "
                "under-fitting; widen or deepen the network, train longer or raise the learning rate",
                best + 1,
                evidence,
            )
    quarter = max(1, n // 4)
    tail_rate = (val[-1 - quarter] - val[-1]) / quarter
    mean_rate = fall / (n - 1)
    evidence["tail_rate_share"] = tail_rate / mean_rate if mean_rate > 0 else 0.0
    if best == n - 1 and fall > 0 and tail_rate > TAIL_SHARE * mean_rate and stopped_by != "early_stopping":
        return Diagnosis(
            "under-fit",
            f"validation loss still falling at the last epoch ({n}): under-trained; train for more epochs "
            "or raise the learning rate",
            best + 1,
            evidence,
        )
    gap = v_min - train[best]
    evidence["gap_at_best"] = gap
    return Diagnosis(
        "balanced",
        f"validation loss levels off at epoch {best + 1} near its minimum {v_min:.3g}: balanced; more "
        "capacity or data may still help",
        best + 1,
        evidence,
    )


def diagnose_best(
    records: Sequence[Any], info: Any, *, top: int = 5, baseline: float | None = None
) -> list[tuple[int, Any, Diagnosis]]:
    """``(rank, record, diagnosis)`` of a study's ``top`` best complete trials, best first.

    ``records`` are :class:`automl.store.TrialRecord`, ``info`` the study's
    :class:`automl.store.StudyInfo`; ``baseline`` (default: the study's strongest baseline) is the bar
    each trial must clear.
    """
    from automl.store import best_first

    if baseline is None:
        maximize = info.direction == "maximize"
        baselines = [v for v in info.baselines.values() if v is not None and math.isfinite(v)]
        baseline = (max if maximize else min)(baselines) if baselines else None
    ranked = best_first(list(records), info.direction)[:top]
    return [
        (
            rank,
            record,
            diagnose(
                record.history,
                metric=info.metric,
                direction=info.direction,
                baseline=baseline,
                stopped_by=record.stopped_by,
            ),
        )
        for rank, record in enumerate(ranked, start=1)
    ]


def diagnose_trials(records: Sequence[Any], info: Any, *, top: int = 5) -> list[dict[str, Any]]:
    """The diagnosis of a study's ``top`` best complete trials as rows: ``rank``, ``trial``, ``score``,
    ``diagnosis`` (the label), ``epoch`` and ``advice`` (see :func:`diagnose_best`)."""
    return [
        {
            "rank": rank,
            "trial": record.number,
            "score": record.score,
            "diagnosis": result.label,
            "epoch": result.epoch,
            "advice": result.advice,
        }
        for rank, record, result in diagnose_best(records, info, top=top)
    ]


def render_diagnosis(rows: list[dict[str, Any]], fmt: str, title: str) -> Any:
    """Diagnosis rows as a rich table, CSV or Markdown (JSON callers embed the rows themselves)."""
    import pandas as pd

    from automl.report._leaderboard import _cell, _markdown

    frame = pd.DataFrame(rows, columns=["rank", "trial", "score", "diagnosis", "epoch", "advice"])
    if fmt == "csv":
        return frame.to_csv(index=False)
    if fmt == "markdown":
        return _markdown(frame)
    from rich.table import Table

    table = Table(title=title, caption="from each trial's learning curves (automl.diagnose)")
    for column in frame.columns:
        table.add_column(column, ratio=1) if column == "advice" else table.add_column(column, no_wrap=True)
    styles = {"over-fit": "red", "under-fit": "yellow", "unstable": "magenta", "balanced": "green"}
    for row in frame.itertuples(index=False):
        cells = [_cell(v) for v in row]
        cells[3] = f"[{styles.get(row.diagnosis, 'dim')}]{row.diagnosis}[/]"
        table.add_row(*cells)
    return table
