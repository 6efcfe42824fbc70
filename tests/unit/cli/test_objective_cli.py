"""``--objective``: a real search for the trade-off between accuracy and saved size (tiny fits), and the
one-line refusals of what cannot search one."""

from __future__ import annotations

import optuna

from automl.store import TrialState


def test_a_search_for_accuracy_and_size_records_both_values(tmp_path, cli):
    import automl

    run = tmp_path / "run"
    code, _, err = cli(
        ["search", "-d", "iris", "-s", "tiny", "--objective", "accuracy,size", "--trials", "3", "--workers",
         "1", "--pruner", "none", "--run-dir", str(run), "-q", "--no-report"]
    )  # fmt: skip
    assert code == 0, err
    search = automl.AutoMLSearch.load(run)
    assert search.study_info_.objectives == ["size"] and search.study_info_.metric == "accuracy"
    storage = f"sqlite:///{run / 'automl.db'}"
    study = optuna.load_study(study_name=optuna.get_all_study_names(storage)[0], storage=storage)
    complete = [r for r in search.trials_ if r.state is TrialState.COMPLETE]
    assert len(complete) == 3
    values = {t.number: t.values for t in study.trials}
    assert all(values[r.number] == [r.score, r.size_bytes] and r.size_bytes > 0 for r in complete)
    assert study.best_trials


def test_keras_tuner_and_a_contradiction_are_refused_in_one_line(tmp_path, cli):
    common = ["search", "-d", "iris", "-s", "tiny", "--trials", "2", "--run-dir", str(tmp_path / "r"), "-q"]
    code, _, err = cli([*common, "--backend", "keras_tuner", "--objective", "accuracy,latency"])
    assert code == 2 and "--objective accuracy,latency: KerasTuner has no Pareto search" in " ".join(
        err.split()
    )
    code, _, err = cli([*common, "--objective", "accuracy,size", "--metric", "auc"])
    assert code == 2
    assert "--objective scores by accuracy but --metric says auc" in " ".join(err.split()), err
    assert "Traceback" not in err
