"""Picking from the trade-off front with real fits: the smallest config within a tolerance is the one
retrained and saved, a pick of the fastest measures the front again first, and metrics.json says both."""

from __future__ import annotations

import json

import optuna
import pytest

from automl import AutoMLSearch
from automl.cli import main
from automl.model import count_params
from automl.retrain import retrain_study
from automl.store import StudyInfo, TrialRecord, TrialState, load_quiet, load_records, open_run
from automl.training import footprint_of

TINY = {"depth": 1, "activation": "relu", "batch_norm": False, "dropout": 0.0, "l2": 1e-5, "optimizer": "adam",
        "learning_rate": 0.01, "lr_schedule": "constant", "batch_size": 32, "epochs": 2, "patience": 2}  # fmt: skip


def test_smallest_within_deploys_the_small_config_a_little_worse_than_the_large_best(wine, tmp_path):
    info = StudyInfo(
        dataset=wine.name, dataset_fingerprint=wine.fingerprint, space="tiny", space_hash="h",
        task="multiclass", metric="accuracy", direction="maximize", backend="optuna", algorithm="tpe",
        objectives=["size"],
    )  # fmt: skip
    records = []
    for number, (units, score) in enumerate(((64, 0.97), (8, 0.965), (16, 0.90), (32, 0.968))):
        config = {**TINY, "units_0": units}
        footprint = footprint_of(config, wine)
        records.append(
            TrialRecord(
                number=number,
                state=TrialState.COMPLETE,
                score=score,
                params=config,
                config=config,
                best_epoch=2,
                epochs_run=2,
                stopped_by="early_stopping",
                fit_seconds=0.5,
                n_params=count_params(config, wine),
                size_bytes=footprint.size_bytes,
                latency_ms=footprint.latency_ms,
                latency_ms_256=footprint.latency_ms_256,
            )
        )
    report, predictor = retrain_study(wine, records, info, tmp_path / "models", pick="smallest-within 0.005")
    # within 0.005 of 0.97: trials 0, 1 and 3; 1 is the smallest. One model, no ensemble.
    assert [c.trial for c in report.configs] == [1] and report.deployed == "top-1"
    assert predictor.model.count_params() == records[1].n_params
    metrics = json.loads((tmp_path / "models" / "metrics.json").read_text())
    assert metrics["saved"]["trial"] == 1 and metrics["validation_score"] == 0.965
    pick = metrics["pick"]
    assert (pick["rule"], pick["tolerance"], pick["relative"], pick["measure"]) == (
        "smallest-within", 0.005, False, "size_bytes",
    )  # fmt: skip
    for key, record in (("picked", records[1]), ("best", records[0])):
        assert pick[key]["trial"] == record.number and pick[key]["validation_score"] == record.score
        assert (pick[key]["size_bytes"], pick[key]["n_params"]) == (record.size_bytes, record.n_params)
        assert pick[key]["latency_ms"] == record.latency_ms
    assert (
        pick["picked"]["n_params"] < pick["best"]["n_params"] / 4
        and pick["picked"]["size_bytes"] < pick["best"]["size_bytes"]
    )


def _main(argv: list[str]) -> int:
    try:
        main(argv)
    except SystemExit as exit:
        return int(exit.code or 0)
    return 0


def test_fastest_within_measures_the_front_again_then_deploys_the_fastest(tmp_path, capsys):
    run_dir = tmp_path / "run"
    argv = ["search", "-d", "iris", "-s", "tiny", "--trials", "4", "--run-dir", str(run_dir), "-q"]
    assert _main([*argv, "--pruner", "none"]) == 0
    _, manifest, storage = open_run(run_dir)
    (name,) = manifest.studies
    # What the multi-objective search records (`--objective accuracy,size,latency`), written here by hand.
    study = optuna.load_study(study_name=name, storage=storage)
    study.set_user_attr("automl.objectives", ["size", "latency"])
    capsys.readouterr()
    assert _main(["retrain", str(run_dir), "--pick", "fastest-within", "100%", "--json", "--no-report"]) == 0
    (report,) = json.loads(capsys.readouterr().out)
    quiet = load_quiet(storage, name)
    assert quiet is not None and quiet.where == "the retrain" and quiet.trials
    records = load_records(storage, name)
    measured = {n: m["latency_ms"] for n, m in quiet.trials.items()}
    fastest = min(measured, key=lambda n: (measured[n], n))
    pick = report["pick"]
    assert pick["measure"] == "latency_ms" and pick["picked"]["trial"] == fastest == report["saved"]["trial"]
    assert pick["picked"]["latency_ms"] == measured[fastest]
    assert pick["picked"]["latency_measured"] == "again, in one process (the retrain)"
    assert report["deployed"] == "top-1" and report["ensemble"] is None and len(report["configs"]) == 1
    best = max(
        (r for r in records if r.state is TrialState.COMPLETE and r.repeat_of is None), key=lambda r: r.score
    )
    assert pick["best"]["validation_score"] == best.score
    # The table says what was picked, beside the best.
    assert _main(["retrain", str(run_dir), "--pick", "fastest-within", "100%", "--no-report"]) == 0
    shown = " ".join(capsys.readouterr().out.split())
    again = load_quiet(storage, name).trials  # measured again by this retrain: its own fastest
    fastest = min(again, key=lambda n: (again[n]["latency_ms"], n))
    assert f"picked by fastest-within 100%: trial {fastest}: latency (batch 1)" in shown
    # From Python, the same pick; the front is measured again by this retrain too.
    search = AutoMLSearch.load(run_dir)
    search.retrain(pick="smallest-within 100%")
    smallest = min(
        (r for r in records if r.state is TrialState.COMPLETE and r.repeat_of is None),
        key=lambda r: (r.size_bytes, r.number),
    )
    assert search.retrain_report_.pick["picked"]["trial"] == smallest.number
    assert search.retrain_report_.configs[0].trial == smallest.number


@pytest.mark.parametrize("pick", ["smallest-within 0.01", "fastest-within 1%"])
def test_a_single_objective_search_refuses_the_pick_before_retraining(tmp_path, capsys, pick):
    run_dir = tmp_path / "run"
    assert (
        _main(["search", "-d", "iris", "-s", "tiny", "--trials", "1", "--run-dir", str(run_dir), "-q"]) == 0
    )
    capsys.readouterr()
    assert _main(["retrain", str(run_dir), "--pick", *pick.split()]) == 2
    err = capsys.readouterr().err
    assert "needs a search that traded the score against" in err and len(err.strip().splitlines()) == 1
    assert not (run_dir / "models").exists()
