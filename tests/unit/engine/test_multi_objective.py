"""A search for a trade-off (``objectives``): a multi-objective Optuna study whose trials are pruned on the
score by automl's own median rule, recorded so that the multi-objective sampler keeps proposing; and the
one-line refusals (KerasTuner, CMA-ES, a one-objective pruner, another objective on resume)."""

from __future__ import annotations

import math

import optuna
import pytest
from test_limits import sized_space

from automl.backends import get_backend
from automl.backends.optuna._multi import objective_values
from automl.engine import Budget, open_study, run_session
from automl.exceptions import UserError
from automl.objectives import parse_objectives
from automl.store import TrialRecord, TrialState, load_records, open_storage
from automl.testing import StubTrainer


def _open(url, iris, *, objectives=("params",), backend="optuna", algorithm="tpe", pruner="median",
          resume=False, options=None):  # fmt: skip
    chosen = get_backend(backend)(
        algorithm=algorithm, pruner=pruner, seed=0,
        options=options if options is not None else ({"pruner_startup_trials": 2, "n_warmup_steps": 0}
                                                     if backend == "optuna" else {}),
    )  # fmt: skip
    storage = open_storage(url)
    study, info = open_study(
        storage, "mo", space=sized_space(100_000), dataset=iris, metric="accuracy", direction="maximize",
        backend=chosen, seed=0, resume=resume, local=True, objectives=objectives,
    )  # fmt: skip
    return chosen, storage, study, info


def test_a_multi_objective_search_prunes_and_its_sampler_keeps_proposing(url, iris):
    backend, storage, study, info = _open(url, iris)
    assert info.objectives == ["params"] and len(study.directions) == 2
    trainer = StubTrainer()
    run_session(backend, study, info, sized_space(100_000), iris, Budget(trials=25), seed=0, trainer=trainer,
                device="stub")  # fmt: skip
    records = load_records(storage, "mo")
    pruned = [r for r in records if r.state is TrialState.PRUNED]
    complete = [r for r in records if r.state is TrialState.COMPLETE]
    assert pruned and complete and len(pruned) + len(complete) == 25
    assert len({tuple(sorted(c.items())) for c, _, _ in trainer.calls}) == 25  # proposals went on
    frozen = {t.number: t for t in optuna.load_study(study_name="mo", storage=storage).trials}
    for record in pruned:  # PRUNED, no values, no Optuna intermediate values: the curve is automl's
        trial = frozen[record.number]
        assert trial.values is None and not trial.intermediate_values
        curve = trial.user_attrs["reported"]
        assert record.score == curve[max(curve, key=int)]
    for record in complete:
        assert frozen[record.number].values == [record.score, record.n_params]
    assert optuna.load_study(study_name="mo", storage=storage).best_trials  # a Pareto front


@pytest.mark.parametrize(
    ("backend", "algorithm", "pruner", "says"),
    [
        ("keras_tuner", "random", "none", "KerasTuner has no Pareto search"),
        ("optuna", "cmaes", "median", "CMA-ES searches one objective"),
        ("optuna", "tpe", "hyperband", "prunes by the median rule only"),
    ],
)
def test_what_cannot_search_a_trade_off_is_refused_in_one_line(url, iris, backend, algorithm, pruner, says):
    with pytest.raises(UserError, match=says) as refused:
        _open(url, iris, backend=backend, algorithm=algorithm, pruner=pruner, options={})
    assert "\n" not in str(refused.value)
    assert str(refused.value).startswith("`objectives='accuracy,params'`") or "objectives" in str(
        refused.value
    )


def test_a_resume_keeps_the_recorded_objectives(url, iris):
    _open(url, iris, objectives=("size",))
    _, _, _, info = _open(url, iris, objectives=None, resume=True)
    assert info.objectives == ["size"]
    with pytest.raises(UserError, match="the run searched for accuracy,size"):
        _open(url, iris, objectives=("latency",), resume=True)


def test_objectives_and_metric_are_one_setting():
    assert parse_objectives("accuracy,latency", None).secondary == ("latency",)
    assert parse_objectives("size", "auc").metric == "auc"
    assert parse_objectives(["rmse", "params"], "rmse").metric == "rmse"
    for given, metric, says in [
        ("accuracy,size", "auc", "scores by accuracy but `metric` says auc"),
        ("accuracy,auc", None, "names two scores"),
        ("size,size", None, "names an objective twice"),
        ("acuracy,size", None, "did you mean 'accuracy'"),
    ]:
        with pytest.raises(UserError, match=says):
            parse_objectives(given, metric)


def test_a_measure_not_taken_counts_as_the_worst():
    record = TrialRecord(number=0, state=TrialState.COMPLETE, score=0.9, params={}, n_params=120)
    assert objective_values(record, ("params", "latency")) == [0.9, 120.0, math.inf]


def test_an_experiment_file_names_objectives_beside_its_metric(tmp_path):
    from automl.experiment import parse_experiment

    path = tmp_path / "exp.yaml"
    path.write_text(
        "datasets: [iris]\nspaces: [tiny]\nobjectives: [accuracy, latency]\nbudget: {trials: 2}\n"
    )
    config = parse_experiment(path)
    assert (config.metric, config.objectives) == ("accuracy", ("latency",))
    path.write_text("datasets: [iris]\nmetric: auc\nobjectives: accuracy,size\nbudget: {trials: 2}\n")
    with pytest.raises(
        UserError, match=r"exp.yaml:3: objectives: .*scores by accuracy but `metric` says auc"
    ):
        parse_experiment(path)
