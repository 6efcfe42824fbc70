"""``max_params``: configs over it are proposed but never trained, do not count as trials, teach the sampler
(Optuna's constraint values) and never stall the search (a config within the limit after a run of them)."""

from __future__ import annotations

import optuna
import pytest
from stub_search import stub_search

from automl.engine import _limits
from automl.exceptions import UserError
from automl.model import count_params
from automl.outcomes import SearchStop
from automl.space import Fixed, Float, Int, SearchSpace
from automl.store import TrialState, load_stop, open_storage
from automl.testing import StubTrainer

STUDY = "stub/iris/stub/run"


def sized_space(max_params: int, *, high_units: int = 256) -> SearchSpace:
    """Depth and width set the size (iris: 4 inputs, 3 classes); dropout stands for the quality."""
    return SearchSpace(
        name="sized",
        family="mlp",
        parameters=[
            Int("depth", 1, 3),
            Int("units", 8, high_units, log=True),
            Float("dropout", 0.0, 0.9),
            Fixed("epochs", 2),
        ],
        max_params=max_params,
    )


def _in_a_row(states: list[TrialState]) -> int:
    longest = run = 0
    for state in states:
        run = run + 1 if state is TrialState.SKIPPED else 0
        longest = max(longest, run)
    return longest


def test_no_trained_config_exceeds_the_limit_and_the_budget_counts_trained_trials_only(url, iris):
    trainer = StubTrainer()
    space = sized_space(500)
    found = stub_search(url, iris, trainer, trials=40, algorithm="tpe", space=space)
    trained = [config for config, _, _ in trainer.calls]
    assert len(trained) == 40 == len(found.finished)
    assert max(count_params(c, iris, family="mlp") for c in trained) <= 500
    skipped = [r for r in found.records if r.state is TrialState.SKIPPED]
    assert skipped, "the space is mostly over 500 weights: some proposals must be over it"
    assert all(r.n_params > 500 and r.stopped_by == "over_limit" for r in skipped)
    assert (
        _in_a_row([r.state for r in sorted(found.records, key=lambda r: r.number)])
        <= _limits.OVER_LIMIT_IN_A_ROW
    )
    # Optuna holds them as pruned trials with their constraint: what TPE reads as infeasible.
    frozen = {t.number: t for t in optuna.load_study(study_name=STUDY, storage=open_storage(url)).trials}
    for record in skipped:
        trial = frozen[record.number]
        assert trial.state is optuna.trial.TrialState.PRUNED
        assert trial.constraints["max_params"] == pytest.approx(record.n_params / 500 - 1)


def test_the_sampler_learns_the_limit(url, iris):
    """TPE reads the constraint values: after its random start it proposes fewer configs over the limit
    than the random sampler does over the same number of trials."""

    def share(algorithm: str, study: str) -> float:
        found = stub_search(
            url, iris, StubTrainer(), trials=40, algorithm=algorithm, space=sized_space(300), study=study
        )
        late = [r for r in found.records if r.number >= 20]
        return sum(r.state is TrialState.SKIPPED for r in late) / len(late)

    assert share("tpe", "stub/iris/stub/tpe") < share("random", "stub/iris/stub/random")


def test_a_limit_below_the_smallest_model_is_refused_in_one_line(url, iris):
    with pytest.raises(
        UserError, match=r"max_params 20 is below the smallest model .*\(67 weights: depth=1, units=8\)"
    ):
        stub_search(url, iris, StubTrainer(), trials=3, space=sized_space(20))


def test_the_search_stops_when_no_config_within_the_limit_can_be_found(url, iris, monkeypatch):
    """A limit only a sliver of the space meets: the random sampler keeps proposing over it, the draws from
    the feasible region find nothing either (one draw here), and the search stops with the reason."""
    monkeypatch.setattr(_limits, "FEASIBLE_DRAWS", 1)
    space = sized_space(100, high_units=4096)  # only depth 1 with 8-12 units (67-99 weights) fits
    trainer = StubTrainer()
    found = stub_search(url, iris, trainer, trials=20, algorithm="random", space=space)
    assert len(trainer.calls) < 20
    stop = load_stop(open_storage(url), STUDY)
    assert stop is not None and stop.reason is SearchStop.OVER_LIMIT
    assert "over the search's limits" in stop.describe()
    assert found.session.state.skipped >= _limits.OVER_LIMIT_IN_A_ROW


def test_limits_in_a_space_file_are_checked_and_kept(tmp_path):
    from automl.exceptions import SpaceError
    from automl.space import load_space

    path = tmp_path / "s.yaml"
    path.write_text(
        "family: mlp\nmax_params: 5000\nmax_latency_ms: 2.5\nparameters:\n  units: {type: int, low: 8, high: 64}\n"
    )
    space = load_space(path)
    assert (space.max_params, space.max_latency_ms) == (5000, 2.5)
    assert SearchSpace.from_dict(space.to_dict()).max_params == 5000
    assert space.with_limits(max_params=100).max_params == 100
    assert space.with_limits(max_params=100).content_hash != space.content_hash
    path.write_text("family: mlp\nmax_params: 1.5\nparameters:\n  units: {type: int, low: 8, high: 64}\n")
    with pytest.raises(SpaceError, match=r"s.yaml:2: max_params: 1.5 is not a whole number of weights"):
        load_space(path)


def test_a_latency_limit_times_each_config_before_it_trains(url, iris):
    """``max_latency_ms`` builds each proposal untrained and times it: below any model's latency, nothing
    trains and the search stops at the cap (10x the budget); far above every model's, all train."""
    space = SearchSpace(
        name="timed", family="mlp", parameters=[Int("units", 8, 32), Fixed("epochs", 1)], max_latency_ms=1e-6
    )
    trainer = StubTrainer()
    found = stub_search(url, iris, trainer, trials=1, algorithm="random", space=space)
    assert not trainer.calls
    skipped = [r for r in found.records if r.state is TrialState.SKIPPED]
    assert len(skipped) == _limits.OVER_LIMIT_CAP * 1
    assert all("ms per row > max_latency_ms 1e-06" in r.failure for r in skipped)
    stop = load_stop(open_storage(url), STUDY)
    assert stop is not None and stop.reason is SearchStop.OVER_LIMIT

    roomy = space.with_limits(max_latency_ms=1e4)
    trainer = StubTrainer()
    stub_search(url, iris, trainer, trials=2, algorithm="random", space=roomy, study="stub/iris/timed/roomy")
    assert len(trainer.calls) == 2
