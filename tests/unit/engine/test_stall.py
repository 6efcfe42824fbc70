"""``stop_stalled``: a search whose best score stopped improving ends, study-wide, and says why.

The rule alone (pure, on made-up finished trials), then real searches with the stub trainer on both
backends: scores that improve for a few trials and then plateau stop after exactly N finished trials
that brought nothing; a search that keeps improving runs to its budget; a resumed search starts a fresh
count against the best the study already holds.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from stub_search import STUDY, stub_search

from automl.engine import STALL_TOLERANCE, Budget, parse_stop_stalled
from automl.engine._stall import FinishedTrial, stalled
from automl.exceptions import UserError
from automl.outcomes import SearchStop
from automl.store import SearchStopped, clear_stop, load_stop, open_storage
from automl.testing import StubTrainer

T0 = datetime(2026, 1, 1, 12, 0, 0)


def finished(*scores: float | None, every: float = 1.0, start: datetime = T0) -> list[FinishedTrial]:
    """Trials 0, 1, … finishing ``every`` seconds apart after ``start``; None is a pruned trial."""
    return [FinishedTrial(i, start + timedelta(seconds=every * (i + 1)), s) for i, s in enumerate(scores)]


def rule(trials: list[FinishedTrial], **kwargs: Any) -> SearchStopped | None:
    kwargs.setdefault("maximize", True)
    kwargs.setdefault("since", T0)
    kwargs.setdefault("now", T0 + timedelta(hours=1))
    return stalled(trials, **kwargs)


# ------------------------------------------------------------------ the rule


def test_n_finished_trials_without_improvement_stall_the_search():
    trials = finished(0.5, 0.6, 0.7, 0.65, 0.7, 0.69)
    assert rule(trials, stall_trials=4) is None
    stop = rule(trials, stall_trials=3)
    assert stop is not None and stop.reason is SearchStop.STALLED
    assert (stop.trials, stop.best, stop.best_trial) == (3, 0.7, 2)
    assert stop.describe() == "no improvement over 3 trials (best 0.7000 at trial 2)"


def test_a_gain_within_the_tolerance_is_no_improvement_and_the_bar_stays():
    # Each gain is below 0.1 % of the bar (0.9), so none counts, though the best creeps up; gains add up
    # against the bar, not the last best: 0.9012 would have cleared it.
    trials = finished(0.9, 0.9004, 0.9006, 0.9008)
    stop = rule(trials, stall_trials=3)
    assert stop is not None and (stop.best, stop.best_trial) == (0.9008, 3)
    assert rule(trials, stall_trials=3, tolerance=0.0) is None
    assert rule(finished(0.9, 0.9004, 0.9006, 0.9012), stall_trials=3) is None


def test_minimising_and_pruned_trials():
    # rmse: lower is better; a pruned trial (None) finished without improving.
    trials = finished(2.0, 1.5, None, 1.6, None)
    stop = rule(trials, maximize=False, stall_trials=3)
    assert stop is not None and (stop.best, stop.best_trial) == (1.5, 1)
    assert rule(finished(2.0, 1.5, None, 1.4, None), maximize=False, stall_trials=3) is None


def test_the_verdict_holds_once_reached_whatever_finishes_later():
    # Another worker's trial still running at the stall ends with a better score: the search had stopped.
    trials = finished(0.5, 0.4, 0.4, 0.9)
    stop = rule(trials, stall_trials=2)
    assert stop is not None and (stop.best, stop.best_trial) == (0.5, 0)


def test_no_improvement_for_a_while_stalls_by_time():
    trials = finished(0.5, 0.7, 0.6, 0.6, every=60.0)  # the best at 2 min; later trials at 3 and 4 min
    assert rule(trials, stall_seconds=150.0, now=T0 + timedelta(minutes=4)) is None
    stop = rule(trials, stall_seconds=150.0, now=T0 + timedelta(minutes=4, seconds=31))
    assert stop is not None and stop.seconds == 150.0 and stop.best_trial == 1
    assert stop.describe() == "no improvement for 2.5m (best 0.7000 at trial 1)"
    # A trial that improves after the deadline passed does not undo it.
    late = [*trials, FinishedTrial(9, T0 + timedelta(minutes=5), 0.99)]
    assert rule(late, stall_seconds=150.0, now=T0 + timedelta(minutes=5)).best_trial == 1


def test_a_resumed_search_counts_afresh_against_the_best_so_far():
    before = finished(0.5, 0.8, 0.7, 0.7, 0.7)
    resumed_at = T0 + timedelta(seconds=10)
    after = finished(0.75, 0.8, start=resumed_at)
    after = [FinishedTrial(5 + t.number, t.finished, t.score) for t in after]
    # Three non-improving trials before the resume do not count; the two since then are below 0.8.
    assert rule(before + after, stall_trials=3, since=resumed_at) is None
    stop = rule(before + after, stall_trials=2, since=resumed_at)
    assert stop is not None and (stop.best, stop.best_trial) == (0.8, 1)


@pytest.mark.parametrize(
    ("value", "expected"),
    [(15, (15, None)), ("15", (15, None)), ("10m", (None, 600.0)), (None, (None, None))],
)
def test_stop_stalled_is_trials_or_a_duration(value, expected):
    assert parse_stop_stalled(value) == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (0, "`stop_stalled` must be at least 1 trial, but got 0"),
        ("0", "`stop_stalled` must be at least 1 trial, but got 0"),
        ("10x", "`stop_stalled` must be a number of trials (15) or a duration (10m, 1h), but got '10x'"),
        ("0m", "`stop_stalled` must be a number of trials (15) or a duration (10m, 1h), but got '0m'"),
        (2.5, "`stop_stalled` must be a number of trials (15) or a duration (10m, 1h), but got 2.5"),
        (True, "`stop_stalled` must be a number of trials (15) or a duration (10m, 1h), but got True"),
    ],
)
def test_a_bad_stop_stalled_is_one_line_naming_it(value, message):
    with pytest.raises(UserError) as info:
        parse_stop_stalled(value)
    assert str(info.value) == message


def test_a_bad_tolerance_is_one_line_naming_it():
    with pytest.raises(UserError, match=r"^`stall_tolerance` must be zero or more .* but got -0.1$"):
        Budget(trials=5, stall_trials=3, stall_tolerance=-0.1)
    assert Budget(trials=5).stall_tolerance == STALL_TOLERANCE == 1e-3


# ------------------------------------------------------------------ real searches, stub trainer


class ByTrial(StubTrainer):
    """Scores by trial number (a trial's seed is its number here): ``scores(number)``."""

    def __init__(self, scores: Any) -> None:
        super().__init__(default_epochs=2)
        self.scores = scores

    def __call__(self, config: dict[str, Any], dataset: Any, **kwargs: Any) -> Any:
        seed = int(kwargs.get("seed", 0))
        self.score = lambda _config, _epoch: self.scores(seed)
        return super().__call__(config, dataset, **kwargs)


def plateau_after(k: int) -> ByTrial:
    """Trials 0…k improve (by 10 % each), every later one scores as trial k."""
    return ByTrial(lambda n: 0.5 + 0.05 * min(n, k))


@pytest.mark.parametrize("backend", ["optuna", "keras_tuner"])
def test_a_plateau_stops_the_search_after_exactly_n_trials(url, iris, tmp_path, backend):
    result = stub_search(
        url, iris, plateau_after(3), trials=30, stop_stalled=4, backend=backend, run_dir=tmp_path / "run"
    )
    assert len(result.finished) == 4 + 4  # trials 0-3 improve, then 4 bring nothing
    stop = load_stop(open_storage(url), STUDY)
    assert stop == result.session.stopped
    assert (stop.reason, stop.trials, stop.best_trial) == (SearchStop.STALLED, 4, 3)
    assert stop.describe() == "no improvement over 4 trials (best 0.6500 at trial 3)"


def test_a_search_that_keeps_improving_runs_to_its_budget(url, iris):
    result = stub_search(url, iris, ByTrial(lambda n: 0.1 + 0.01 * n), trials=12, stop_stalled=2)
    assert len(result.finished) == 12
    assert result.session.stopped is None and load_stop(open_storage(url), STUDY) is None


def test_no_improvement_for_a_while_stops_by_time(url, iris):
    trainer = plateau_after(1)
    trainer.seconds_per_epoch = 0.05  # 0.1 s a trial: the plateau from trial 1 lasts 0.5 s after ~5 trials
    result = stub_search(url, iris, trainer, trials=200, stop_stalled="0.5s")
    stop = result.session.stopped
    assert stop is not None and (stop.seconds, stop.best_trial) == (0.5, 1)
    assert 3 <= len(result.finished) <= 12


def test_resume_counts_afresh_and_a_new_search_clears_the_last_stop(url, iris):
    first = stub_search(url, iris, plateau_after(2), trials=30, stop_stalled=3)
    assert len(first.finished) == 3 + 3
    # The runner clears the stop when a search starts on the study (automl.workers.record_window).
    storage = open_storage(url)
    import optuna

    clear_stop(optuna.load_study(study_name=STUDY, storage=storage))
    assert load_stop(storage, STUDY) is None
    again = stub_search(url, iris, plateau_after(2), trials=30, stop_stalled=3, resume=True)
    assert len(again.finished) == 6 + 3  # three more, none above trial 2's score
    assert load_stop(storage, STUDY).best_trial == 2
