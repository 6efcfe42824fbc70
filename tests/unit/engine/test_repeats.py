"""A config the study finished already is not trained again: its result is reused, marked as a repeat, and
counts as a finished trial; leaderboards rank the original alone (and say how many repeats there were)."""

from __future__ import annotations

import optuna
import pytest
from stub_search import stub_search

from automl.engine._repeats import config_key
from automl.report import study_leaderboard
from automl.space import Choice, Fixed, SearchSpace
from automl.store import TrialState, best_first, load_records, load_study_info, open_storage
from automl.testing import StubTrainer

STUDY = "stub/iris/stub/run"


def discrete_space() -> SearchSpace:
    """Four configs in all: a sampler asked for eight must repeat some."""
    return SearchSpace(
        name="stub",
        family="mlp",
        parameters=[Choice("dropout", (0.2, 0.6)), Choice("batch_size", (16, 32)), Fixed("epochs", 3)],
    )


@pytest.mark.parametrize("backend", ["optuna", "keras_tuner"])
def test_each_config_trains_once_and_repeats_reuse_its_result(url, iris, tmp_path, backend):
    trainer = StubTrainer()
    found = stub_search(
        url, iris, trainer, trials=8, backend=backend, algorithm="random", space=discrete_space(),
        run_dir=tmp_path,
    )  # fmt: skip
    trained = [config_key(config) for config, _, _ in trainer.calls]
    assert len(trained) == len(set(trained)) <= 4
    by_number = {r.number: r for r in found.records}
    repeats = [r for r in found.records if r.repeat_of is not None]
    if backend == "optuna":  # KerasTuner's oracle retries its own duplicates before it gives one up
        assert len(found.finished) == 8 and len(repeats) == 8 - len(trained)
    for repeat in repeats:
        original = by_number[repeat.repeat_of]
        assert config_key(repeat.config) == config_key(original.config)
        assert (repeat.state, repeat.score, repeat.seed) == (original.state, original.score, original.seed)
        assert repeat.fit_seconds == 0.0 and original.repeat_of is None


def test_leaderboards_rank_the_original_alone_and_count_the_repeats(url, iris):
    found = stub_search(url, iris, StubTrainer(), trials=8, algorithm="random", space=discrete_space())
    repeats = sum(r.repeat_of is not None for r in found.records)
    assert repeats, "eight trials of four configs"
    ranked = best_first(found.records, "maximize")
    assert len({config_key(r.config) for r in ranked}) == len(ranked)  # the retrain never picks one twice
    frame = study_leaderboard(found.records, load_study_info(open_storage(url), STUDY))
    trials = frame["trial"][~frame["trial"].str.startswith("baseline")]
    assert len(trials) == len(found.records) - repeats
    assert frame.attrs["repeats"].startswith(f"{repeats} proposal")


def test_a_pruned_config_is_reused_as_pruned(url, iris):
    """The first trial of each config is the one trained; a repeat of a pruned one is pruned too (the
    pruner is not asked again: the curve it judged is the same)."""
    scores = {0.2: 0.1, 0.6: 0.9}
    trainer = StubTrainer(score=lambda config, epoch: scores[config["dropout"]] * epoch / 3)
    found = stub_search(
        url, iris, trainer, trials=10, algorithm="random", pruner="median", space=discrete_space(),
        options={"pruner_startup_trials": 1, "n_warmup_steps": 0},
    )  # fmt: skip
    by_number = {r.number: r for r in found.records}
    for record in found.records:
        if record.repeat_of is not None:
            assert record.state is by_number[record.repeat_of].state
    assert any(r.repeat_of is not None and r.state is TrialState.PRUNED for r in found.records)
    # read back from the storage, a pruned repeat keeps the score (the last value of the curve it carries)
    trials = optuna.load_study(study_name=STUDY, storage=open_storage(url)).trials
    for record in load_records(open_storage(url), STUDY):
        if record.repeat_of is not None:
            original = by_number[record.repeat_of]
            assert record.score == original.score is not None, record
            assert trials[record.number].intermediate_values == trials[original.number].intermediate_values


def test_configs_are_the_same_when_their_floats_agree_to_six_digits():
    assert config_key({"lr": 0.001, "units": 8}) == config_key({"units": 8, "lr": 0.0010000001})
    assert config_key({"lr": 0.001}) != config_key({"lr": 0.0010001})
    assert config_key({"units": 8}) != config_key({"units": 9})
    assert config_key({"activation": "relu"}) != config_key({"activation": "tanh"})
