"""`automl worker`: a second "machine" (a process with its own working directory and no run directory)
joins a search through its storage; and each mistake in joining is one line."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import optuna
import pytest
from processes import IN_PROCESS_STUDY, search_in_process

from automl import AutoMLSearch

SPACE = """\
version: 1
name: small
family: mlp
parameters:
  units: {type: int, low: 8, high: 32, log: true}
  learning_rate: {type: float, low: 1.0e-3, high: 1.0e-1, log: true}
  epochs: {type: fixed, value: EPOCHS}
  patience: {type: fixed, value: EPOCHS}
"""


def space(folder: Path, epochs: int = 1) -> str:
    path = folder / "small.yaml"
    path.write_text(SPACE.replace("EPOCHS", str(epochs)))
    return str(path)


def _study_name(url: str, timeout: float = 120) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            names = optuna.get_all_study_names(url)
            study = optuna.load_study(study_name=names[0], storage=url)
            if "automl.window" in study.user_attrs:
                return names[0]
        except Exception:
            pass
        time.sleep(0.3)
    raise AssertionError("the search never created its study")


def _automl(*args: str, cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "automl", *args], cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip


def _everything_written(*folders: Path) -> str:
    return "".join(
        p.read_text(errors="replace") for folder in folders for p in folder.rglob("*") if p.suffix in (
            ".log", ".yaml", ".json", ".csv", ".html", ".txt"
        )
    )  # fmt: skip


# Back in the default tier (about 30 s): passed 10 times in a row after its retry check read Optuna's own
# record of the retry and a dead worker's trial found by two processes at once stopped crashing the second.
@pytest.mark.postgres
def test_a_second_machine_joins_a_postgres_study_and_a_killed_worker_loses_only_its_trial(
    tmp_path, postgres_url
):
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    password = str(optuna.storages.RDBStorage(postgres_url).engine.url.password)
    # The second machine is started first and waits for the study (--wait), so its start-up cannot let
    # the search spend its budget before it joins.
    name = IN_PROCESS_STUDY
    joined = _automl(
        "worker", "--storage", postgres_url, "--study", name, "--workers", "1", "--wait", "240", "-q",
        cwd=second,
    )  # fmt: skip
    main = search_in_process(first, space=space(first, epochs=25), storage=postgres_url, n_trials=6)
    assert _study_name(postgres_url) == name
    killed = None
    deadline = time.monotonic() + 150
    while killed is None and time.monotonic() < deadline and main.poll() is None:
        time.sleep(0.2)
        trials = optuna.load_study(study_name=name, storage=postgres_url).trials
        remote = [
            t for t in trials
            if t.state == optuna.trial.TrialState.RUNNING
            and int(str(t.user_attrs.get("worker", ":0")).rsplit(":", 1)[1]) not in (0, main.pid)
        ]  # fmt: skip
        if remote and sum(t.state.is_finished() for t in trials) >= 2:
            os.kill(int(remote[0].user_attrs["worker"].rsplit(":", 1)[1]), signal.SIGKILL)
            killed = remote[0].number
    out, err = main.communicate(timeout=240)
    assert main.returncode == 0, err[-3000:]
    joined_out, joined_err = joined.communicate(timeout=120)
    assert joined.returncode == 0, joined_err[-3000:]
    assert killed is not None, "no remote worker was caught mid-trial"

    trials = optuna.load_study(study_name=name, storage=postgres_url).trials
    assert (
        sum(t.state in (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED) for t in trials)
        >= 6
    )
    assert [t.number for t in trials if t.state == optuna.trial.TrialState.FAIL] == [killed]
    lost = next(t for t in trials if t.number == killed)
    # Retried once: its config is enqueued again (Optuna's `failed_trial`); it ran if the budget had room
    # left, else it waits for a resume.
    retries = [t for t in trials if t.system_attrs.get("failed_trial") == killed]
    assert len(retries) == 1, [(t.number, t.state.name, t.system_attrs) for t in trials]
    assert retries[0].params == lost.params
    pids = {t.user_attrs["worker"] for t in trials}
    assert len(pids) >= 3  # the first machine, the killed worker and its replacement
    # The second machine has no run directory: only its workers' logs.
    assert sorted(p.name for p in second.iterdir()) == ["automl-worker-logs"]
    assert (second / "automl-worker-logs" / "w0.log").read_text().count("--- worker") == 2
    # The password is nowhere: output, logs, run files, the manifest kept in the storage.
    manifest = optuna.load_study(study_name=name, storage=postgres_url).user_attrs["automl.manifest"]
    written = out + err + joined_out + joined_err + _everything_written(first, second) + str(manifest)
    assert password not in written and "***" in str(manifest)


@pytest.mark.slow  # 30 s; the KerasTuner chief is in the default tier through test_workers
@pytest.mark.postgres
def test_a_keras_tuner_worker_joins_the_chief_from_another_machine(tmp_path, postgres_url):
    import socket

    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    main = _automl(
        "search", "-d", "iris", "-s", space(first, epochs=4), "--backend", "keras_tuner", "--algorithm",
        "random", "--storage", postgres_url, "--workers", "1", "--oracle-port", str(port), "--trials", "10",
        "--run-dir", "run", "-q", "--no-report", cwd=first,
    )  # fmt: skip
    name = _study_name(postgres_url)
    joined = _automl(
        "worker", "--storage", postgres_url, "--study", name, "--oracle", f"127.0.0.1:{port}", "-q", "--workers",
        "1", cwd=second,
    )  # fmt: skip
    _, err = main.communicate(timeout=240)
    assert main.returncode == 0, err[-3000:]
    _, joined_err = joined.communicate(timeout=180)
    assert joined.returncode == 0, joined_err[-3000:]
    trials = optuna.load_study(study_name=name, storage=postgres_url).trials
    assert sum(t.state == optuna.trial.TrialState.COMPLETE for t in trials) >= 10
    ids = [t.user_attrs["keras_tuner_trial_id"] for t in trials]
    assert len(set(ids)) == len(ids)  # one oracle proposed for both machines
    remote_log = (second / "automl-worker-logs" / "w0.log").read_text()
    assert "complete score=" in remote_log
    assert "complete score=" in (first / "run" / "workers" / "w0.log").read_text()


# ---------------------------------------------------------------------- mistakes, one line each
@pytest.fixture(scope="module")
def searched(tmp_path_factory):
    """One finished Optuna study from a CSV file and one KerasTuner Hyperband study, in one SQLite file."""
    import numpy as np
    import pandas as pd

    folder = tmp_path_factory.mktemp("first")
    url = f"sqlite:///{folder / 'shared.db'}"
    rng = np.random.default_rng(0)
    table = pd.DataFrame(rng.normal(size=(60, 3)), columns=["a", "b", "c"])
    table["y"] = (table["a"] > 0).astype(int)
    table.to_csv(folder / "data.csv", index=False)
    old = os.getcwd()
    os.chdir(folder)
    try:
        csv = AutoMLSearch(space=space(folder), storage=url, n_trials=1, devices=1, run_dir="csv")
        csv.fit("data.csv", target="y")
        hyperband = AutoMLSearch(
            space=space(folder), storage=url, n_trials=1, devices=1, run_dir="kt", backend="keras_tuner",
            algorithm="hyperband",
        ).fit("iris")  # fmt: skip
    finally:
        os.chdir(old)
    return url, csv.study_name_, hyperband.study_name_


def one_line(cli, argv: list[str]) -> str:
    code, _, err = cli(argv)
    assert code == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    return lines[0]


def test_without_a_study_the_worker_lists_them(cli, searched):
    url, csv, hyperband = searched
    code, out, _ = cli(["worker", "--storage", url, "--json"])
    assert code == 0
    import json

    rows = {row["study"]: row for row in json.loads(out)}
    assert set(rows) == {csv, hyperband}
    assert rows[hyperband]["backend"] == "keras_tuner/hyperband" and rows[csv]["dataset"] == "data"
    assert rows[csv]["open"] is True  # no time budget: open until its trial budget is met


def test_each_mistake_in_joining_is_one_line(cli, searched, tmp_path, monkeypatch):
    url, csv, hyperband = searched
    monkeypatch.chdir(tmp_path)  # another machine: no data.csv, no run directory
    line = one_line(cli, ["worker", "--storage", url, "--study", "nope", "--wait", "1"])
    assert "no study named 'nope'" in line and line.endswith("check --study")
    assert one_line(cli, ["worker", "--storage", url, "--study", hyperband]).endswith(
        "add --oracle HOST:PORT (that machine's `--oracle-port`)"
    )
    assert "give --shared-dir" in one_line(
        cli, ["worker", "--storage", url, "--study", hyperband, "--oracle", "127.0.0.1:9"]
    )
    assert "cannot read 'db-host'" in one_line(
        cli, ["worker", "--storage", url, "--study", hyperband, "--oracle", "db-host"]
    )
    assert "--oracle is for keras_tuner studies" in one_line(
        cli, ["worker", "--storage", url, "--study", csv, "--oracle", "127.0.0.1:9"]
    )
    assert "this machine cannot load dataset 'data' (data.csv)" in one_line(
        cli, ["worker", "--storage", url, "--study", csv]
    )
    Path("data.csv").write_text("a,b,c,y\n" + "1,2,3,1\n0,1,2,0\n" * 30)
    assert "differs on this machine from the one the search uses" in one_line(
        cli, ["worker", "--storage", url, "--study", csv]
    )


def test_a_search_that_is_over_leaves_nothing_to_do(cli, searched, tmp_path):
    url, csv, _ = searched
    study = optuna.load_study(study_name=csv, storage=url)
    window = dict(study.user_attrs["automl.window"])
    study.set_user_attr("automl.window", {**window, "deadline": time.time() - 1})
    import shutil

    shutil.copy(Path(url[len("sqlite:///") :]).parent / "data.csv", tmp_path / "data.csv")
    old = os.getcwd()
    os.chdir(tmp_path)
    try:
        code, out, err = cli(["worker", "--storage", url, "--study", csv])
        assert code == 0 and "its search is over (the deadline passed); nothing to do" in out, err
    finally:
        os.chdir(old)


def test_an_unreachable_database_is_one_line_without_its_password(cli):
    line = one_line(
        cli, ["worker", "--storage", "postgresql://ann:s3cret@127.0.0.1:1/automl", "--study", "x"]
    )
    assert "cannot open storage" in line and "s3cret" not in line


@pytest.mark.postgres
def test_a_wrong_password_is_one_line_without_either_password(cli, postgres_url):
    from sqlalchemy.engine import make_url

    wrong = make_url(postgres_url).set(password="not-the-password").render_as_string(hide_password=False)
    line = one_line(cli, ["worker", "--storage", wrong])
    assert "not-the-password" not in line
    assert str(make_url(postgres_url).password) not in line
