"""Experiments: real tiny runs over two datasets, resume, the cross-dataset table, and up-front validation."""

import json
import math
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml

import automl
from automl.cli import main
from automl.report import run_leaderboards
from automl.store import manifest_from_storage, read_manifest

EXPERIMENT = """\
version: 1
name: pair
datasets:
  - iris
  - wine
spaces: [tiny]
backend: {{name: optuna, algorithm: tpe, pruner: none}}
budget: {{trials: {trials}, per: dataset}}
devices: {{workers: 1}}
seed: 0
retrain: {retrain}
"""


def cli(*args: str) -> int:
    """Run ``automl ARGS`` in-process; returns the exit code (typer exits even on success)."""
    try:
        main(list(args))
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


def write(folder: Path, text: str, name: str = "experiment.yaml") -> Path:
    path = folder / name
    path.write_text(text)
    return path


@pytest.fixture(scope="module")
def ran(tmp_path_factory):
    """Two datasets × the tiny space, 2 trials each, retrained: run once from Python."""
    folder = tmp_path_factory.mktemp("experiment")
    path = write(folder, EXPERIMENT.format(trials=2, retrain="{top_k: 1, seeds: 1, epochs: best}"))
    return automl.Experiment.from_yaml(path, run_dir=folder / "run").run()


def test_python_run_fills_leaderboards_summary_and_models(ran):
    assert set(ran.leaderboards_) == {"iris", "wine"}
    for dataset in ("iris", "wine"):
        board = ran.leaderboard(dataset)
        assert (board["state"] == "complete").sum() == 2
        assert {"baseline:linear", "baseline:majority"} <= set(board["trial"])
        assert (ran.run_dir_ / "models" / dataset / "model.keras").exists()
    assert [r.dataset for r in ran.retrain_] == ["iris", "wine"]
    assert all(0.0 <= r.test_score <= 1.0 for r in ran.retrain_)
    assert ran.studies_ == ["run/iris/tiny/optuna-tpe", "run/wine/tiny/optuna-tpe"]
    # Bounded by trials alone: no time limit; each retrain's wall time is kept beside its search's.
    assert all(r.time_limit is None and r.seconds > 0 and r.search_seconds > 0 for r in ran.retrain_)

    resolved = yaml.safe_load((ran.run_dir_ / "run.yaml").read_text())
    assert resolved["manifest_version"] == 1 and not (ran.run_dir_ / "experiment.yaml").exists()
    assert resolved["kind"] == "experiment" and resolved["studies"] == ran.studies_
    assert [(d["name"], d["source"], d["task"]) for d in resolved["datasets"]] == [
        ("iris", "iris", "multiclass"),
        ("wine", "wine", "multiclass"),
    ]
    assert resolved["budget"]["trials_per_study"] == dict.fromkeys(ran.studies_, 2)
    assert [s["definition"]["name"] for s in resolved["spaces"]] == ["tiny"]
    assert resolved["latency_measured"].endswith("with 1 worker searching at once")  # devices: {workers: 1}
    assert manifest_from_storage(f"sqlite:///{ran.run_dir_ / 'automl.db'}") == read_manifest(ran.run_dir_)
    assert len(run_leaderboards(ran.run_dir_)) == 2  # the format the leaderboard already reads
    csv = pd.read_csv(ran.run_dir_ / "leaderboard.csv")
    assert set(csv["dataset"]) == {"iris", "wine"}


def test_cross_dataset_table_follows_the_formula_on_real_numbers(ran):
    summary = ran.summary_
    assert list(summary["dataset"]) == ["iris", "wine"]
    for _, row in summary.iterrows():
        board = ran.leaderboard(row["dataset"])
        assert row["score"] == board.loc[board["rank"] == 1, "score"].iloc[0]
        baselines = board.loc[board["state"] == "baseline", "score"]
        assert row["baseline_score"] == baselines.max()  # accuracy: the strongest baseline is the highest
        assert row["rank"] == 1 and row["mean_rank"] == 1.0
        if row["beats_baseline"]:
            # one search per dataset: it is the best, so (score - b) / (best - b) == 1
            assert row["normalised"] == pytest.approx(1.0)
        else:
            assert math.isnan(row["normalised"])  # nothing beat the baseline: the scale is undefined
    assert (ran.run_dir_ / "summary.csv").exists()


def test_leaderboard_command_shows_each_dataset_then_the_cross_table(ran, capsys):
    assert cli("leaderboard", str(ran.run_dir_), "--format", "json") == 0
    doc = json.loads(capsys.readouterr().out)
    assert [b["dataset"] for b in doc["leaderboards"]] == ["iris", "wine"]
    assert [r["dataset"] for r in doc["across"]["rows"]] == ["iris", "wine"]
    assert cli("leaderboard", str(ran.run_dir_), "--dataset", "wine", "--format", "csv") == 0
    out = capsys.readouterr().out
    assert out.startswith("rank,trial,state") and "dataset,search" not in out  # one study: no cross table
    assert cli("leaderboard", str(ran.run_dir_), "--format", "markdown") == 0
    assert "| dataset | search |" in capsys.readouterr().out


def test_the_run_summary_shows_each_retrains_wall_time_beside_its_searchs(ran, capsys):
    from automl.cli._experiment import _show

    _show(ran, top=1)
    out = capsys.readouterr().out
    for report in ran.retrain_:
        # the dataset's row of the last table, the retrained models'
        row = [line for line in out.splitlines() if line.startswith(f"│ {report.dataset} ")][-1]
        assert f"{report.search_seconds:.1f} s" in row and f"{report.seconds:.1f} s" in row, out


def test_cli_resume_continues_every_study(ran, capsys):
    path = write(ran.run_dir_.parent, EXPERIMENT.format(trials=3, retrain="false"), "more.yaml")
    assert cli("run", str(path), "--run-dir", str(ran.run_dir_), "--resume", "--json") == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["studies"] == ran.studies_ and doc["retrain"] == [] and doc["retrain_seconds"] == 0
    for dataset in ("iris", "wine"):
        rows = doc["leaderboards"][dataset]["tiny"]
        assert sum(r["state"] == "complete" for r in rows) == 3
    assert cli("run", str(path), "--run-dir", str(ran.run_dir_)) == 2
    assert "--resume" in capsys.readouterr().err


BASE = """\
version: 1
datasets: [iris, wine]
spaces: [tiny]
budget: {trials: 2}
"""


@pytest.mark.parametrize(
    ("text", "line", "expected"),
    [
        (BASE + "retrian: false\n", 5, "retrian: unknown key 'retrian' (did you mean 'retrain'?)"),
        (BASE.replace("[iris, wine]", "\n  - iris\n  - wine\n  - iris"), 5, "datasets.2: dataset 'iris' is listed twice"),
        (BASE.replace("trials: 2", "trials: 0"), 4, "budget.trials: trials must be a whole number of at least 1"),
        (BASE + "devices: {workers: 0}\n", 5, "devices: workers must be at least 1, but got 0"),
        (BASE + "devices: {gpus: all}\n", 5, "devices: gpus asks for GPUs, but this machine shows none"),
        (BASE + "devices: {workers: 2, gpus: 1}\n", 5, "devices: workers makes CPU slots and gpus / gpu_ids GPU slots"),
        (BASE + "backend: {name: optuna, algorithm: bayes}\n", 5, "backend.algorithm: unknown algorithm 'bayes'"),
        (BASE + "backend: {name: sklearn}\n", 5, "backend.name: unknown backend 'sklearn'"),
        (BASE + "backend:\n  name: keras_tuner\n  algorithm: hyperband\n  options: {factor: 1}\n", 8,
         "backend.options.factor: option factor of keras_tuner/hyperband must be at least 2, not 1"),
        (BASE + "report: maybe\n", 5, "report: report must be true (write report.html, the default) or false, but got 'maybe'"),
        (BASE.replace("[tiny]", "[tiny, huge]"), 3, "spaces.1: unknown search space 'huge'"),
        (BASE.replace("trials: 2", "timeout: soon"), 4, "budget.timeout: cannot read 'soon' as a duration"),
        (BASE.replace("iris, wine", "iris, wnie"), 2, "datasets.1: unknown dataset 'wnie' (did you mean 'wine'?)"),
        (BASE.replace("trials: 2", "trials: 2, trial_timeout: 0s"), 4, "budget.trial_timeout: a duration must be positive, but got '0s'"),
        (BASE + "retrain: {seeds: 0}\n", 5, "retrain.seeds: seeds must be at least 1, but got 0"),
        (BASE + "retrain:\n  top_k: 2\n  epochs: soon\n", 7, "retrain.epochs: epochs must be 'best' or a positive number of epochs, but got 'soon'"),
        (BASE + "retrain: {bag: maybe}\n", 5, "retrain.bag: give true, false or auto, not 'maybe'"),
        (BASE + "retrain: {final_fit: yes please}\n", 5, "retrain.final_fit: give true or false, not 'yes please'"),
        (BASE + "retrain:\n  final_fit: true\n  bag: true\n", 5, "retrain: `final_fit` and `bag` deploy different models: choose one"),
        (BASE + "retrain: {time_limit: soon}\n", 5, "retrain.time_limit: give a duration (90, 20m, 1h), auto or none, not 'soon'"),
        (BASE + "checkpoint_dir: [a, b]\n", 5, "checkpoint_dir: give a folder, not ['a', 'b']"),
        (BASE + "retrain: {pick: smallest-within}\n", 5, "retrain.pick: smallest-within needs a tolerance: smallest-within 0.005"),
        (BASE + "retrain:\n  pick: fastest-within 1%\n  bag: true\n", 5, "retrain: a bag of fold models multiplies the size and latency a pick minimises: drop bag, or pick best"),
        (BASE + "retrain: {rescore: 1}\n", 5, "retrain.rescore: give 0 (off) or a number of configs, at least 2, not 1"),
        (BASE + "retrain:\n  ensemble_from: 8\n  ensemble: false\n", 5, "retrain: ensemble_from chooses an ensemble's members, but ensemble is False: it deploys no ensemble"),
    ],
    ids=["unknown-key", "dataset-twice", "budget-0", "no-workers", "no-gpus", "gpus-and-workers", "algorithm", "backend", "option", "report",
         "space", "duration", "dataset-typo", "duration-0", "retrain-seeds", "retrain-epochs", "retrain-bag", "retrain-final-fit",
         "retrain-contradiction", "retrain-time-limit", "checkpoint-dir", "retrain-pick", "retrain-pick-bag",
         "retrain-rescore", "retrain-ensemble-from"],
)  # fmt: skip
def test_validation_errors_are_one_line_with_file_and_line(tmp_path, capsys, text, line, expected):
    path = write(tmp_path, text)
    started = time.perf_counter()
    assert cli("run", str(path), "--run-dir", str(tmp_path / "run")) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert f"{path}:{line}: {expected}" in err
    assert not (tmp_path / "run").exists()  # nothing started
    assert time.perf_counter() - started < 10


def test_the_budget_and_retrain_sections_are_the_manifests_records(tmp_path):
    from automl.experiment._config import parse_experiment
    from automl.store import BudgetEntry, RetrainPolicy

    text = (
        BASE.replace("trials: 2", "trials: 2, timeout: 1.5h") + "retrain: {top_k: 2, seeds: 3, epochs: 4}\n"
    )
    config = parse_experiment(write(tmp_path, text))
    assert config.budget == BudgetEntry(trials=2, timeout=5400.0)
    assert config.retrain == RetrainPolicy(top_k=2, seeds=3, epochs=4)
    picking = write(tmp_path, BASE + "retrain: {pick: smallest-within 0.5%}\n", "pick.yaml")
    assert parse_experiment(picking).retrain == RetrainPolicy(pick="smallest-within 0.5%")
    assert parse_experiment(write(tmp_path, BASE + "retrain: false\n", "off.yaml")).retrain is None
    assert parse_experiment(write(tmp_path, BASE, "on.yaml")).retrain == RetrainPolicy()
    # The policy's refusal, at the line of the key at fault, in the file's words.
    bad = write(tmp_path, BASE + "retrain:\n  top_k: 1\n  ensemble: true\n", "bad.yaml")
    with pytest.raises(automl.UserError) as info:
        parse_experiment(bad)
    assert str(info.value) == f"{bad}:7: retrain.ensemble: an ensemble needs `top_k` of 2 or more"
    timed = parse_experiment(write(tmp_path, BASE + "retrain: {time_limit: 20m}\n", "timed.yaml"))
    assert timed.retrain == RetrainPolicy(time_limit=1200.0)


def test_checkpoint_dir_is_a_folder_relative_to_the_file(tmp_path):
    from automl.experiment._config import parse_experiment

    assert parse_experiment(write(tmp_path, BASE)).checkpoint_dir is None
    config = parse_experiment(write(tmp_path, BASE + "checkpoint_dir: ckpt\n"))
    assert config.checkpoint_dir == str(tmp_path.resolve() / "ckpt")
    assert (
        parse_experiment(write(tmp_path, BASE + "checkpoint_dir: /mnt/shared\n")).checkpoint_dir
        == "/mnt/shared"
    )


def test_a_dataset_entry_may_name_its_persistence_column(tmp_path):
    from automl.experiment._config import parse_experiment

    (tmp_path / "walk.csv").write_text("lag1,demand\n1,2\n")
    entry = "datasets:\n  - {path: walk.csv, target: demand, persistence: lag1, split: ordered}\n"
    config = parse_experiment(write(tmp_path, BASE.replace("datasets: [iris, wine]\n", entry)))
    assert config.datasets[0].persistence == "lag1" and config.datasets[0].split == "ordered"
    unknown = write(
        tmp_path, BASE.replace("datasets: [iris, wine]\n", entry.replace("ordered", "time")), "t.yml"
    )
    with pytest.raises(automl.UserError, match=r"t.yml:3: datasets.0.split: unknown split 'time'"):
        parse_experiment(unknown)
    bad = write(
        tmp_path, BASE.replace("datasets: [iris, wine]\n", entry.replace(": lag1", ": [lag1]")), "bad.yaml"
    )
    with pytest.raises(
        automl.UserError, match=r"bad.yaml:3: datasets.0.persistence: give the name of the column"
    ):
        parse_experiment(bad)


def test_retrain_on_an_empty_run_is_one_line(tmp_path, capsys):
    run = tmp_path / "empty"
    run.mkdir()
    empty = {"manifest_version": 1, "kind": "experiment", "name": "empty", "datasets": [], "spaces": []}
    (run / "run.yaml").write_text(
        yaml.safe_dump({**empty, "backend": {"name": "optuna", "algorithm": "tpe"}, "studies": []})
    )
    assert cli("retrain", str(run)) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "nothing to retrain" in err


@pytest.mark.slow
def test_offline_builtins_example(tmp_path):
    """The shipped example: each retrained model beats the mean/majority, and the linear model on auto_mpg and digits."""
    example = Path(__file__).parents[2] / "examples" / "experiments" / "offline_builtins.yaml"
    started = time.perf_counter()
    exp = automl.Experiment.from_yaml(example, run_dir=tmp_path / "run").run()
    seconds = time.perf_counter() - started
    assert set(exp.leaderboards_) == {"digits", "wine", "breast_cancer", "diabetes", "auto_mpg"}
    lines = [f"wall time {seconds:.0f} s"]
    for report in exp.retrain_:
        naive = report.test_baselines.get("majority", report.test_baselines.get("mean"))
        better = report.test_score > naive if report.direction == "maximize" else report.test_score < naive
        lines.append(
            f"{report.dataset}: test {report.metric} {report.test_score:.4f} vs {report.test_baselines}"
        )
        assert better, lines[-1]
        if report.dataset in ("auto_mpg", "digits"):  # where an MLP should beat a linear model
            linear = report.test_baselines["linear"]
            beats = (
                report.test_score > linear if report.direction == "maximize" else report.test_score < linear
            )
            assert beats, lines[-1]
    print("\n".join(lines))


def test_shipped_experiment_files_validate():
    from automl.experiment._config import parse_experiment

    folder = Path(__file__).parents[2] / "examples" / "experiments"
    configs = {p.stem: parse_experiment(p) for p in folder.glob("*.yaml")}
    assert {"offline_builtins", "two_backends"} <= set(configs)
    assert configs["two_backends"].budget.per == "total"


def test_total_budget_is_shared_evenly_and_unused_time_passes_on(tmp_path):
    from automl.experiment import split_trials

    assert split_trials(9, 3) == [3, 3, 3] and split_trials(10, 4) == [3, 3, 2, 2]
    path = write(tmp_path, BASE.replace("trials: 2", "trials: 4, timeout: 60, per: total"))
    exp = automl.Experiment.from_yaml(path)
    now = time.time()
    seconds, clock = exp._clock(0, 2, now)
    assert seconds == pytest.approx(30, abs=0.5) and clock == pytest.approx(now, abs=0.5)  # half the total
    seconds, _ = exp._clock(1, 2, now - 10)
    assert seconds == pytest.approx(50, abs=0.5)  # the first used 10 s: the rest passes on
    too_few = write(tmp_path, BASE.replace("trials: 2", "trials: 1, per: total"), "few.yaml")
    with pytest.raises(
        automl.UserError, match=r"few.yaml:4: budget.trials: 1 trials in total for 2 searches"
    ):
        automl.Experiment.from_yaml(too_few)


def test_two_spaces_on_one_dataset_retrain_the_better_study(tmp_path):
    second = tmp_path / "wide.yaml"
    second.write_text(
        "version: 1\nname: wide\nparameters:\n"
        "  units: {type: choice, values: [64], per_layer: depth}\n  depth: {type: fixed, value: 1}\n"
        "  learning_rate: {type: fixed, value: 0.01}\n  epochs: {type: fixed, value: 3}\n"
    )
    text = (
        EXPERIMENT.format(trials=1, retrain="{top_k: 1}")
        .replace("  - wine\n", "")
        .replace("spaces: [tiny]", f"spaces: [tiny, {second}]")
    )
    exp = automl.Experiment.from_yaml(write(tmp_path, text), run_dir=tmp_path / "run").run()
    assert len(exp.studies_) == 2 and [r.dataset for r in exp.retrain_] == ["iris"]
    best = max(exp.summary_["score"])  # accuracy: the better study is the one retrained
    assert exp.retrain_[0].configs[0].validation_score == best
