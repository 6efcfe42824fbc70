"""Re-scoring the top configs with a second seed before the retrain takes its top K (``rescore``).

A search's best validation score is the best of many noisy ones, so it is biased upwards, and the more
trials a search ran the more: the winner's curse. On a noisy table automl's best validation score was the
highest of three contenders while its test score was not (benchmarks/results/quality-wide.md, ``fair``).
With ``rescore=N`` each of the top N complete configs is trained once more, on the same training split
and validation rows as in the search, with another seed; the N are then ranked by the mean of their two
validation scores, a second draw that carries none of the search's selection.

The second fit trains as the trial did: its config's epochs and early stopping, or, for a trial the
search's time budget stopped, the epochs it reached. Its seed is the trial's plus one. It may take half of
the retrain's time limit (the members of the deploy need the rest); a config whose fit does not fit in
that is left with its search score, as is every config after it (re-scoring a cheaper one further down
instead would favour small, fast models), and ranked after those re-scored. A config whose second fit fails
(a NaN loss, out of memory) is ranked after every other: it trained once, then did not.

A cross-validated search is refused: its scores already average K fold models.
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from automl.exceptions import Argument, UserError
from automl.retrain._time import RetrainClock

if TYPE_CHECKING:
    from automl.datasets import Dataset
    from automl.store import StudyInfo, TrialRecord
    from automl.training import TrainResult

__all__ = ["Rescored", "check_rescore", "describe_rescore", "rescore_configs", "second_fits"]

#: the share of the retrain's time limit re-scoring may take
RESCORE_SHARE = 0.5


@dataclass
class Rescored:
    """One config's second fit: the search's score, the second seed's, and what it took."""

    trial: int
    search_score: float
    #: None: not trained (the time limit), or its fit failed (``failure`` says how)
    second_score: float | None
    seed: int
    seconds: float = 0.0
    failure: str | None = None

    @property
    def mean(self) -> float | None:
        if self.second_score is None:
            return None
        return statistics.fmean((self.search_score, self.second_score))

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "mean": self.mean}


def check_rescore(info: StudyInfo, rescore: int) -> None:
    """Refuse ``rescore`` for a study whose scores are cross-validated (one line, the fix in it)."""
    if rescore and info.cv >= 2:
        raise UserError(
            "the search scored each config by {cv}-fold cross-validation: its scores average {cv} models "
            "already, so a second seed adds little; retrain without {rescore}",
            cv=info.cv,
            rescore=Argument("rescore"),
        )


def rescore_configs(
    order: list[TrialRecord],
    dataset: Dataset,
    info: StudyInfo,
    rescore: int,
    *,
    time_limit: float | None,
) -> tuple[list[TrialRecord], list[Rescored]]:
    """``order`` (best validation score first) with its first ``rescore`` configs ranked again by the mean
    of their search score and a second seed's; the second fits, in the old order.

    ``time_limit``: the retrain's (None: none); re-scoring takes at most :data:`RESCORE_SHARE` of it.
    """
    check_rescore(info, rescore)
    head, tail = order[:rescore], order[rescore:]
    done: list[Rescored] = []
    for record, result, seconds in second_fits(head, dataset, info, time_limit=time_limit):
        assert record.score is not None  # complete trials only (best_first)
        seed = int(record.seed or 0) + 1
        if result is None:
            done.append(Rescored(record.number, record.score, None, seed, failure="time limit"))
            continue
        score = result.best_score
        if result.failure is not None or score is None or not math.isfinite(score):
            failure = str(result.failure or "no finite validation score")
            done.append(Rescored(record.number, record.score, None, seed, round(seconds, 2), failure))
        else:
            done.append(Rescored(record.number, record.score, float(score), seed, round(seconds, 2)))
    sign = -1.0 if info.direction == "maximize" else 1.0
    by_trial = {r.number: r for r in head}

    def rank(item: tuple[int, Rescored]) -> tuple[int, float, int]:
        position, rescored = item
        if rescored.mean is not None:
            return (0, sign * rescored.mean, position)
        return (1 if rescored.failure == "time limit" else 2, 0.0, position)

    ranked = [by_trial[r.trial] for _, r in sorted(enumerate(done), key=rank)]
    return ranked + tail, done


def second_fits(
    head: list[TrialRecord], dataset: Dataset, info: StudyInfo, *, time_limit: float | None
) -> Iterator[tuple[TrialRecord, TrainResult | None, float]]:
    """Each config of ``head`` trained once more on the search's split with its trial's seed plus one:
    ``(record, result, seconds)``, in order; ``result`` None for a config left out by the time limit.

    The fits take at most :data:`RESCORE_SHARE` of ``time_limit`` (the retrain's; None: no limit). The
    first config whose fit would not fit is left out with every one after it: fitting a cheaper config
    further down instead would favour small, fast models over the slower ones ranked above them. A trial
    the search's time budget stopped replays the epochs it reached; any other trains as its config says.
    Re-scoring (:func:`rescore_configs`) and ensemble selection (:mod:`._select`) both draw on these fits.
    """
    from automl.training import train

    clock = RetrainClock(None if time_limit is None else RESCORE_SHARE * time_limit)
    for index, record in enumerate(head):
        epochs = record.epochs_run if record.stopped_by == "budget" else None
        if not clock.fits(clock.estimate(record, epochs or max(1, record.epochs_run))):
            for left_out in head[index:]:
                yield left_out, None, 0.0
            return
        started = time.perf_counter()
        result = train(
            record.config, dataset, epochs=epochs, seed=int(record.seed or 0) + 1, metric=info.metric
        )
        seconds = time.perf_counter() - started
        clock.measured(record, seconds, result.epochs_run)
        yield record, result, seconds


def describe_rescore(rescored: list[Rescored], chosen: list[TrialRecord]) -> str:
    """One line: how many configs were re-scored, in what time, and the top configs before and after."""
    trained = [r for r in rescored if r.second_score is not None]
    before = [r.trial for r in rescored][: len(chosen)]
    after = [r.number for r in chosen]
    seconds = sum(r.seconds for r in rescored)
    line = f"re-scored {len(trained)} of the top {len(rescored)} configs with a second seed ({seconds:.0f} s)"
    left_out = [r.trial for r in rescored if r.failure == "time limit"]
    failed = [r.trial for r in rescored if r.second_score is None and r.failure != "time limit"]
    if left_out:
        line += f"; the time limit left out trials {_numbers(left_out)}"
    if failed:
        line += f"; the second fit failed for trials {_numbers(failed)}, ranked last"
    if after == before:
        return line + f"; the top {len(after)} stay trials {_numbers(after)}"
    return line + f"; the top {len(after)} are now trials {_numbers(after)} (were {_numbers(before)})"


def _numbers(numbers: list[int]) -> str:
    return ", ".join(str(n) for n in numbers)
