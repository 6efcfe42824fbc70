"""The trade-off front as a leaderboard: `automl leaderboard RUN --pareto` in every format, from runs made by
hand (no training), with the latencies measured again where the study holds them."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from pareto_runs import pareto_run

from automl.report import render_front, run_fronts, study_front, study_fronts
from automl.store import QuietFootprint, StudyInfo, TrialRecord, TrialState, open_run, record_quiet

INFO = StudyInfo(
    dataset="iris", dataset_fingerprint="f", space="tiny", space_hash="h", task="multiclass",
    metric="accuracy", direction="maximize", backend="optuna", algorithm="tpe", objectives=["size"],
)  # fmt: skip


def trial(number, score, size, latency=None, units=8) -> TrialRecord:
    return TrialRecord(
        number=number, state=TrialState.COMPLETE, score=score, params={}, config={"units_0": units, "epochs": 3},
        n_params=size // 4, size_bytes=size, latency_ms=latency,
    )  # fmt: skip


RECORDS = [trial(0, 0.95, 400_000, 2.0, 64), trial(1, 0.94, 40_000, 3.0, 16), trial(2, 0.90, 80_000, 0.5, 32)]


def test_a_front_table_ranks_the_front_smallest_first_with_every_measure():
    frame = study_front(RECORDS, INFO, "size")
    assert list(frame.columns[:8]) == [
        "objective", "front", "trial", "score", "n_params", "size_bytes", "latency_ms", "latency_ms_256",
    ]  # fmt: skip
    assert list(frame["trial"]) == [1, 0] and list(frame["front"]) == [1, 2]
    assert list(frame["units_0"]) == [16, 64]  # the parameters that vary along the front
    assert frame.attrs["objective"] == "size" and frame.attrs["recorded"] and not frame.attrs["quiet"]
    assert (
        "front on saved size: no other trial has both a better score and a smaller saved size"
        in (frame.attrs["caption"])
    )
    assert list(study_front(RECORDS, INFO, "latency")["trial"]) == [2, 0]


def test_a_single_objective_study_shows_its_front_on_weights_and_says_so():
    (frame,) = study_fronts(RECORDS, replace(INFO, objectives=[]))
    assert frame.attrs["objective"] == "params" and not frame.attrs["recorded"]
    assert "no secondary objective recorded for this study: the front on weights" in frame.attrs["caption"]
    fronts = study_fronts(RECORDS, replace(INFO, objectives=["size", "latency"]))
    assert [f.attrs["objective"] for f in fronts] == ["size", "latency"]


def test_latencies_measured_again_replace_the_trials_own_while_current():
    quiet = QuietFootprint(trials={0: {"latency_ms": 0.4}, 1: {"latency_ms": 0.3}}, last_trial=2, where="x")
    frame = study_front(RECORDS, INFO, "latency", quiet=quiet)
    assert list(frame["trial"]) == [1, 0] and list(frame["latency_ms"]) == [
        0.3,
        0.4,
    ]  # 2 was not measured again
    assert frame.attrs["quiet"] and "measured again in one quiet process (x)" in frame.attrs["caption"]
    stale = study_front([*RECORDS, trial(3, 0.5, 1000, 0.1)], INFO, "latency", quiet=quiet)
    assert not stale.attrs["quiet"] and list(stale["trial"]) == [3, 2, 0]


def test_every_format_renders_the_front():
    from rich.console import Console

    frame = study_front(RECORDS, INFO, "size")
    csv = render_front(frame, "csv")
    assert (
        csv.splitlines()[0].startswith("objective,front,trial,score,n_params,size_bytes") and "40000" in csv
    )
    doc = json.loads(render_front(frame, "json"))
    assert doc["objective"] == "size" and [r["trial"] for r in doc["rows"]] == [1, 0]
    markdown = render_front(frame, "markdown")
    assert markdown.startswith("**iris · tiny · validation accuracy vs saved size**")
    assert "| 1 | 1 | 0.94 | 10,000 | 40.0 kB | 3 ms | units=16 |" in markdown
    console = Console(record=True, width=120)
    console.print(render_front(frame, "table", width=120))
    text = console.export_text()
    assert "iris · tiny · validation accuracy vs saved size" in text and "400.0 kB" in text
    empty = study_front([trial(0, 0.9, 100)], INFO, "latency")
    assert empty.empty and "no complete trial has its latency at batch 1 measured" in render_front(
        empty, "markdown"
    )


def test_leaderboard_pareto_shows_each_studys_fronts(cli, tmp_path):
    run = pareto_run(tmp_path / "run", objectives=("size", "latency"))
    code, out, err = cli(["leaderboard", str(run), "--pareto", "--format", "json"])
    assert code == 0, err
    fronts = json.loads(out)["fronts"]
    assert [(f["objective"], [r["trial"] for r in f["rows"]]) for f in fronts] == [
        ("size", [4, 1, 2, 0]), ("latency", [4, 1, 2, 0]),
    ]  # fmt: skip
    assert fronts[0]["study"] == "front/iris/tiny/optuna-tpe"
    # the latencies measured again after the search: 2 is now the faster of the middle two
    _, manifest, storage = open_run(run)
    measured = {0: 1.0, 1: 0.5, 2: 0.4, 4: 0.2}
    quiet = QuietFootprint(
        {n: {"latency_ms": v} for n, v in measured.items()}, last_trial=6, where="after the search"
    )
    record_quiet(storage, manifest.studies[0], quiet)
    (_, latency) = run_fronts(run)
    assert list(latency["trial"]) == [4, 2, 0] and latency.attrs["quiet"]
    code, out, _ = cli(["leaderboard", str(run), "--pareto"])
    assert code == 0 and "validation accuracy vs latency at batch 1" in out and "measured again" in out
    code, out, _ = cli(["leaderboard", str(run), "--pareto", "-f", "csv"])
    assert code == 0 and out.count("objective,front,trial") == 2


def test_leaderboard_pareto_on_a_single_objective_run_says_it_shows_weights(cli, tmp_path):
    run = pareto_run(tmp_path / "run", objectives=())
    code, out, _ = cli(["leaderboard", str(run), "--pareto", "-f", "markdown"])
    assert code == 0 and "validation accuracy vs weights" in out
    assert "no secondary objective recorded for this study: the front on weights" in out


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--top", "3"], "error: --pareto shows each front whole: drop --top"),
        (["--diagnose"], "error: --pareto and --diagnose are two views of a run"),
        (["--dataset", "wine"], "error: --dataset: the run has no dataset 'wine'; it searched: iris"),
    ],
)
def test_leaderboard_pareto_refusals_are_one_line(cli, tmp_path, args, says):
    run = pareto_run(tmp_path / "run")
    code, _, err = cli(["leaderboard", str(run), "--pareto", *args])
    assert code == 2 and says in err and len(err.strip().splitlines()) == 1


def test_the_report_plots_every_trial_against_size_and_latency_with_the_front_and_its_table(tmp_path):
    from automl.report import render_html, report_data

    data = report_data(pareto_run(tmp_path / "run", objectives=("size",)))
    study = data["studies"][0]
    assert {"pareto_size", "pareto_latency"} <= set(study["figures"])  # latency measured, though not searched
    size_plot = study["figures"]["pareto_size"]
    trials, front = size_plot["data"]
    assert sorted(trials["customdata"]) == [0, 1, 2, 3, 4]  # every complete original trial
    assert front["customdata"] == [4, 1, 2, 0] and front["line"]["shape"] == "hv"
    assert size_plot["layout"]["xaxis"]["type"] == "log"
    size, latency = study["pareto"]
    assert (size["objective"], size["recorded"], latency["recorded"]) == ("size", True, False)
    assert size["columns"] == ["front", "trial", "score", "params", "size", "latency", "config"]
    assert [row["trial"] for row in size["rows"]] == ["4", "1", "2", "0"] and size["rows"][0][
        "size"
    ] == "8.0 kB"
    page = render_html(data)
    assert page.count('<table class="grid front">') == 2 and "Trade-off" in page
    assert "objectives beyond the score: size" in page


def test_the_report_shows_no_trade_off_without_measures(make_run):
    from automl.report import report_data

    study = report_data(make_run(4, pruned=0, failed=0))["studies"][0]
    assert study["pareto"] == [] and not any(name.startswith("pareto") for name in study["figures"])


def test_the_reports_retrained_model_says_what_was_picked(tmp_path):
    from automl.report import render_html, report_data

    run = pareto_run(tmp_path / "run", objectives=("size",))
    folder = run / "models" / "iris"
    folder.mkdir(parents=True)
    numbers = {"n_params": 10, "latency_ms": 0.5, "latency_ms_256": 0.01}
    pick = {
        "rule": "smallest-within", "written": "smallest-within 0.005", "tolerance": 0.005, "relative": False,
        "measure": "size_bytes", "notes": [],
        "picked": {"trial": 1, "validation_score": 0.946, "size_bytes": 40_000, **numbers},
        "best": {"trial": 0, "validation_score": 0.95, "size_bytes": 400_000, **numbers},
    }  # fmt: skip
    metrics = {
        "metric": "accuracy",
        "direction": "maximize",
        "saved": {"trial": 1},
        "pick": pick,
        "configs": [],
    }
    (folder / "metrics.json").write_text(json.dumps(metrics))
    data = report_data(run)
    line = data["studies"][0]["retrained"]["pick"]
    assert line == (
        "smallest-within 0.005: trial 1 (40.0 kB, validation 0.946) beside the best, trial 0 (400.0 kB, "
        "validation 0.95)"
    )
    assert f"picked by {line}" in render_html(data)


def test_a_multi_objective_studys_search_plots_are_drawn_by_its_score():
    import optuna
    from optuna.distributions import FloatDistribution, IntDistribution

    from automl.report._figures import optuna_figures

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(directions=["maximize", "minimize"])  # accuracy, then saved size
    dists = {"depth": IntDistribution(1, 2), "learning_rate": FloatDistribution(1e-4, 1e-1, log=True)}
    for i in range(6):
        params = {"depth": 1 + i % 2, "learning_rate": 0.001 * (i + 1)}
        study.add_trial(
            optuna.trial.create_trial(
                values=[0.8 + 0.02 * i, 1000.0 * (6 - i)], params=params, distributions=dists
            )
        )
    study.add_trial(
        optuna.trial.create_trial(state=optuna.trial.TrialState.FAIL, params={}, distributions={})
    )
    figures, missing = optuna_figures(
        study, study.get_trials(), metric="accuracy", baselines={"majority": 0.3}
    )
    assert set(figures) == {"history", "importances", "parallel", "slice"}
    assert missing == {"intermediate": "no trial reported per-epoch scores"}
    scores = [y for trace in figures["history"]["data"] for y in trace.get("y") or [] if isinstance(y, float)]
    assert max(scores) == pytest.approx(0.9)  # the score, not the size
