"""The HTML report of real small runs (Optuna, KerasTuner, an experiment), opened in headless Chromium.

The browser tests need Debian's ``chromium`` and ``chromium-driver`` (``.ci/run`` installs them); without
them they skip, except under ``CI=true`` where a missing browser fails.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import pytest
import yaml

from automl.report import REPORT_FILE

NASTY_NAME = "<img src=x onerror=alert(1)>"
NASTY_COLUMN = "</script><script>alert(1)"
CHROMEDRIVER = "/usr/bin/chromedriver"
SHOTS = Path(os.environ.get("AUTOML_REPORT_SHOTS", "")) if os.environ.get("AUTOML_REPORT_SHOTS") else None


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """A tiny Optuna search retrained, a KerasTuner search, and an experiment on a file with hostile names."""
    from sklearn.datasets import load_wine

    from automl.cli import main

    def cli(*args: str) -> None:
        try:
            main(list(args))
        except SystemExit as exit:
            assert not exit.code, (args, exit.code)

    root = tmp_path_factory.mktemp("report")
    timings = {}
    started = time.perf_counter()
    cli(
        "search",
        "--dataset",
        "wine",
        "--space",
        "tiny",
        "--trials",
        "3",
        "--run-dir",
        str(root / "optuna"),
        "-q",
    )
    timings["optuna"] = time.perf_counter() - started
    assert (root / "optuna" / REPORT_FILE).exists()  # written by default
    cli("retrain", str(root / "optuna"))

    cli("search", "--dataset", "iris", "--space", "tiny", "--backend", "keras_tuner", "--trials", "2",
        "--run-dir", str(root / "kt"), "-q", "--no-report")  # fmt: skip
    assert not (root / "kt" / REPORT_FILE).exists()
    cli("report", str(root / "kt"), "-o", str(root / "kt.html"), "--tensorboard", str(root / "tb"))

    wine = load_wine(as_frame=True)
    table = wine.data.iloc[:, :5].assign(**{NASTY_COLUMN: wine.target})
    table.to_csv(root / f"{NASTY_NAME}.csv", index=False)
    experiment = {
        "version": 1,
        "name": "hostile",
        "datasets": ["iris", {"path": f"{NASTY_NAME}.csv", "target": NASTY_COLUMN}],
        "spaces": ["tiny"],
        "budget": {"trials": 2},
        "retrain": False,
    }
    (root / "experiment.yaml").write_text(yaml.safe_dump(experiment))
    cli("run", str(root / "experiment.yaml"), "--run-dir", str(root / "experiment"), "-q")
    return {
        "optuna": root / "optuna" / REPORT_FILE,
        "kt": root / "kt.html",
        "experiment": root / "experiment" / REPORT_FILE,
        "timings": timings,
        "root": root,
    }


def test_search_writes_the_report_and_retrain_refreshes_it(runs):
    page = runs["optuna"].read_text(encoding="utf-8")
    assert "Retrained model (test split)" in page and "baseline majority" in page
    for section in (
        "Run summary",
        "Leaderboard",
        "Learning curves of the best trials",
        "Pruned and failed trials",
    ):
        assert section in page
    assert "optuna · tpe · pruner median" in page


def test_keras_tuner_run_reports_the_same_sections_and_its_tensorboard_logs(runs):
    page = runs["kt"].read_text(encoding="utf-8")
    assert "keras_tuner · random" in page
    assert 'data-figure="' in page and "Learning curves of the best trials" in page
    study = runs["root"] / "tb" / "iris" / "tiny" / "keras_tuner-random"
    trials = sorted(p.name for p in study.iterdir() if p.is_dir())
    assert trials == ["trial-0000", "trial-0001"]
    assert all(any(p.name.startswith("events.out.tfevents.") for p in (study / t).iterdir()) for t in trials)


def test_experiment_report_has_the_cross_dataset_table_and_escapes_hostile_names(runs):
    page = runs["experiment"].read_text(encoding="utf-8")
    assert 'id="across"' in page and page.count('class="study"') == 2
    assert NASTY_NAME not in page and NASTY_COLUMN not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert page.count("</script>") == 3


def test_python_report_returns_a_path_a_notebook_shows(runs, tmp_path):
    import automl
    from automl.exceptions import UserError

    search = automl.AutoMLSearch.load(runs["optuna"].parent)
    path = search.report(tmp_path / "mine.html")
    assert path == tmp_path / "mine.html" and path.stat().st_size > 4_000_000
    assert path._repr_html_().startswith("<iframe srcdoc=")
    with pytest.raises(UserError, match="report\\(\\) needs a search"):
        automl.AutoMLSearch(space="tiny").report()
    with pytest.raises(UserError, match="report\\(\\) needs a run"):
        automl.Experiment.from_yaml(runs["root"] / "experiment.yaml").report()


def test_experiment_file_turns_the_report_off(tmp_path):
    from automl import Experiment

    path = tmp_path / "e.yaml"
    path.write_text("version: 1\ndatasets: [iris]\nspaces: [tiny]\nbudget: {trials: 1}\nreport: false\n")
    assert Experiment.from_yaml(path).config.report is False
    path.write_text("version: 1\ndatasets: [iris]\nspaces: [tiny]\nbudget: {trials: 1}\n")
    assert Experiment.from_yaml(path).config.report is True


def test_leaderboard_diagnose_labels_the_best_trials(runs, cli):
    run = str(runs["optuna"].parent)
    code, out, _ = cli(["leaderboard", run, "--diagnose", "--top", "2"])
    assert code == 0 and "diagnosis of the best trials" in out
    code, out, _ = cli(["leaderboard", run, "--diagnose", "--format", "json"])
    rows = json.loads(out)["diagnosis"]
    assert code == 0 and [r["rank"] for r in rows] == [1, 2, 3]
    assert {r["diagnosis"] for r in rows} <= {"under-fit", "over-fit", "unstable", "balanced", "unknown"}
    assert all(r["advice"] for r in rows)


def test_report_command_errors_are_one_line(tmp_path, cli):
    code, _, err = cli(["report", str(tmp_path)])
    assert code == 2 and len(err.strip().splitlines()) == 1 and "not an automl run directory" in err


def test_diagnosis_of_real_trials_made_to_over_fit_and_to_under_fit():
    """A wide unregularised network trained long over-fits breast_cancer; a tiny one at a crawl under-fits."""
    import automl
    from automl.report import diagnose

    data = automl.load_dataset("breast_cancer", seed=0)
    wide = {"depth": 2, "units_0": 256, "units_1": 256, "activation": "relu", "batch_norm": False,
            "dropout": 0.0, "l2": 1e-9, "optimizer": "adam", "learning_rate": 0.01, "lr_schedule": "constant",
            "batch_size": 16, "epochs": 40}  # fmt: skip
    result = automl.train(wide, data, early_stopping=False, seed=0)
    over = diagnose(result.history, metric=result.metric)
    assert over.label == "over-fit", (over, result.history["val_loss"])
    assert result.history["val_loss"][-1] > min(result.history["val_loss"])
    assert f"rises after epoch {over.epoch}" in over.advice

    crawl = {**wide, "units_0": 4, "units_1": 4, "optimizer": "sgd", "momentum": 0.0, "learning_rate": 1e-4,
             "epochs": 6, "batch_size": 64}  # fmt: skip
    result = automl.train(crawl, data, early_stopping=False, seed=0)
    under = diagnose(result.history, metric=result.metric)
    assert under.label == "under-fit", (under, result.history["loss"])


# ---------------------------------------------------------------------------------------- the browser
def _browser():
    if not (shutil.which("chromium") and Path(CHROMEDRIVER).exists()):
        if os.environ.get("CI") == "true":
            pytest.fail("headless Chromium is missing: apt-get install chromium chromium-driver")
        pytest.skip("needs chromium and chromium-driver (apt-get install chromium chromium-driver)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--window-size=1400,1800",
                     # every host unresolvable: a request leaving the page would fail and be logged
                     "--host-resolver-rules=MAP * ~NOTFOUND"):  # fmt: skip
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)


@pytest.fixture(scope="module")
def browser():
    driver = _browser()
    yield driver
    driver.quit()


@pytest.mark.browser
@pytest.mark.parametrize("name", ["optuna", "kt", "experiment"])
def test_report_opens_offline_in_chromium_with_every_plot(runs, browser, name, tmp_path):
    from selenium.common.exceptions import NoAlertPresentException

    path = runs[name]
    browser.get_log("browser")  # drop what an earlier page logged
    browser.get_log("performance")
    browser.get(path.as_uri())
    body = browser.find_element("tag name", "body")
    expected = int(body.get_attribute("data-plots-expected"))
    deadline = time.monotonic() + 30
    while body.get_attribute("data-plots-ready") != str(expected) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert expected >= 5 and body.get_attribute("data-plots-ready") == str(expected)
    drawn = browser.execute_script("return document.querySelectorAll('[data-figure] .main-svg').length")
    assert drawn >= expected  # every figure div holds plotly's SVG
    with pytest.raises(NoAlertPresentException):
        browser.switch_to.alert.text  # noqa: B018 - nothing injected ran
    assert browser.execute_script("return document.images.length") == 0
    errors = [entry for entry in browser.get_log("browser") if entry["level"] in ("SEVERE", "WARNING")]
    assert not errors, errors
    requests = [json.loads(entry["message"])["message"] for entry in browser.get_log("performance")]
    urls = {m["params"]["request"]["url"] for m in requests if m["method"] == "Network.requestWillBeSent"}
    assert {u.split(":", 1)[0] for u in urls} <= {"file", "data", "blob"}, urls
    shots = SHOTS or tmp_path
    shots.mkdir(parents=True, exist_ok=True)
    assert browser.save_screenshot(str(shots / f"report-{name}.png"))
