"""Faults, long trials: a trial whose process is killed, stopped or preempted continues from its checkpoint.

Real searches (digits, a fixed MLP whose epochs take a fraction of a second) saving after every epoch
(``AUTOML_CHECKPOINT_EVERY=0``). Each test stops the process once the trial's checkpoint holds epoch 5 or
later, then asserts: the retry of that trial resumed at the epoch saved last, trained only the epochs
after it, ended at epoch 10, with the original trial's seed, and the study holds exactly one intermediate
value per epoch; no checkpoint is left once the trial ended.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import optuna
import pytest

from automl.store import process_alive, trial_seed

SPACE = """\
version: 1
name: slow
family: mlp
parameters:
  depth: {type: fixed, value: 2}
  units: {type: fixed, value: 256}
  dropout: {type: float, low: 0.0, high: 0.1}
  learning_rate: {type: fixed, value: 0.001}
  batch_size: {type: fixed, value: 8}
  epochs: {type: fixed, value: 10}
  patience: {type: fixed, value: 10}
"""
EPOCHS = 10
# A stop asked for (SIGINT, SIGTERM) ends the trial at the end of a batch, after the signal has reached the
# process: asked at epoch 2, not 5, the trial still runs when it lands (epochs take a fraction of a second,
# and on a loaded machine a trial asked at 5 once finished all 10 first).
STOP_AT = 2
SEED = 11


def _search(tmp_path: Path, *extra: str, workers: int = 1, trials: int = 1) -> subprocess.Popen[str]:
    space = tmp_path / "slow.yaml"
    space.write_text(SPACE)
    command = [
        sys.executable, "-m", "automl", "search", "-d", "digits", "-s", str(space), "--trials", str(trials),
        "--workers", str(workers), "--run-dir", str(tmp_path / "run"), "--algorithm", "random", "-q",
        "--no-report", "--seed", str(SEED), *extra,
    ]  # fmt: skip
    return subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "AUTOML_CHECKPOINT_EVERY": "0"},
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )  # fmt: skip


def _storage(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'run' / 'automl.db'}"


def _trials(tmp_path: Path) -> list[optuna.trial.FrozenTrial]:
    url = _storage(tmp_path)
    return optuna.load_study(study_name=optuna.get_all_study_names(url)[0], storage=url).trials


def _states(tmp_path: Path) -> list[tuple[int, str, dict]]:
    """Each trial's number, state and attributes: what an assertion on the stop shows when it fails."""
    return [(t.number, t.state.name, t.user_attrs) for t in _trials(tmp_path)]


def _saved_epoch(tmp_path: Path, trial: int, folder: Path | None = None) -> int:
    """The epoch trial ``trial``'s checkpoint holds (0: none yet), in ``folder`` (default the run's)."""
    for state in (folder or tmp_path / "run" / "checkpoints").glob(f"*/trial-{trial}/state.json"):
        try:
            return int(json.loads(state.read_text())["epoch"])
        except (OSError, ValueError, KeyError):
            return 0
    return 0


def _once_saved(
    tmp_path: Path, process: subprocess.Popen[str], epoch: int = 5, folder: Path | None = None
) -> None:
    """Return once trial 0's checkpoint holds ``epoch`` or later (read from the file alone: fast)."""
    ends = time.monotonic() + 240
    while time.monotonic() < ends and process.poll() is None:
        if _saved_epoch(tmp_path, 0, folder) >= epoch:
            return
        time.sleep(0.05)
    raise AssertionError(f"trial 0 never saved epoch {epoch}: {process.communicate(timeout=60)[1][-3000:]}")


def _worker_of_trial_0(tmp_path: Path, process: subprocess.Popen[str]) -> int:
    """The pid of the process that runs trial 0."""
    ends = time.monotonic() + 240
    while time.monotonic() < ends and process.poll() is None:
        try:
            trial = next((t for t in _trials(tmp_path) if t.number == 0), None)
        except Exception:  # the study is not there yet
            trial = None
        if trial is not None and "worker" in trial.user_attrs:
            return int(trial.user_attrs["worker"].rsplit(":", 1)[1])
        time.sleep(0.2)
    raise AssertionError(f"trial 0 never started: {process.communicate(timeout=60)[1][-3000:]}")


def _check_resumed(
    tmp_path: Path, saved: int | None, folder: Path | None = None, *, at_least: int = 5
) -> optuna.trial.FrozenTrial:
    """The retry of trial 0: resumed at ``saved`` (None: at epoch ``at_least`` or later), ended at epoch 10,
    one intermediate value per epoch."""
    trials = _trials(tmp_path)
    first = next(t for t in trials if t.number == 0)
    assert first.state == optuna.trial.TrialState.FAIL
    assert first.user_attrs["failure_kind"] == "interrupted"
    retry = next(t for t in trials if t.system_attrs.get("failed_trial") == 0)
    assert retry.state == optuna.trial.TrialState.COMPLETE, retry.user_attrs
    assert retry.params == first.params
    assert retry.user_attrs["retry_of"] == 0 and retry.user_attrs["seed"] == trial_seed(SEED, 0)
    resumed_at = retry.user_attrs["resumed_at"]  # only the epochs after it were trained again
    assert resumed_at == saved if saved is not None else at_least <= resumed_at < EPOCHS
    assert retry.user_attrs["epochs_run"] == EPOCHS
    assert len(retry.user_attrs["history"]["loss"]) == EPOCHS
    assert sorted(retry.intermediate_values) == list(range(1, EPOCHS + 1))
    assert not [t.number for t in trials if t.state == optuna.trial.TrialState.RUNNING]
    assert not list((folder or tmp_path / "run" / "checkpoints").glob("*/trial-*")), (
        "a finished trial's checkpoint"
    )
    return retry


def test_a_search_killed_at_epoch_5_resumes_the_trial_there(tmp_path):
    """kill -9 of the process (a lost node, the OOM-killer): `--resume` continues the trial."""
    search = _search(tmp_path)
    _once_saved(tmp_path, search)
    os.kill(search.pid, signal.SIGKILL)
    search.wait()
    saved = _saved_epoch(tmp_path, 0)
    assert saved >= 5 and _trials(tmp_path)[0].state == optuna.trial.TrialState.RUNNING
    resumed = _search(tmp_path, "--resume")
    _, err = resumed.communicate(timeout=240)
    assert resumed.returncode == 0, err[-3000:]
    _check_resumed(tmp_path, saved)


def test_ctrl_c_saves_the_epoch_in_progress_and_resume_continues_it(tmp_path):
    search = _search(tmp_path)
    _once_saved(tmp_path, search, epoch=STOP_AT)
    search.send_signal(signal.SIGINT)
    _, err = search.communicate(timeout=120)
    assert search.returncode == 130, err[-3000:]
    saved = _saved_epoch(tmp_path, 0)  # the stop's save: the epoch stopped mid-way counts as not done
    assert saved >= STOP_AT, _states(tmp_path)
    resumed = _search(tmp_path, "--resume")
    _, err = resumed.communicate(timeout=240)
    assert resumed.returncode == 0, err[-3000:]
    _check_resumed(tmp_path, saved)


def test_a_checkpoint_dir_given_holds_the_checkpoints_and_a_resume_reads_them_there(tmp_path):
    """`--checkpoint-dir`: the trial saves there, not in the run directory; `--resume` without the flag
    continues from there (the run recorded the folder)."""
    folder = tmp_path / "shared"
    search = _search(tmp_path, "--checkpoint-dir", str(folder))
    _once_saved(tmp_path, search, epoch=STOP_AT, folder=folder)
    search.send_signal(signal.SIGINT)
    _, err = search.communicate(timeout=120)
    assert search.returncode == 130, err[-3000:]
    saved = _saved_epoch(tmp_path, 0, folder)
    assert saved >= STOP_AT, _states(tmp_path)
    assert not (tmp_path / "run" / "checkpoints").exists()
    resumed = _search(tmp_path, "--resume")
    _, err = resumed.communicate(timeout=240)
    assert resumed.returncode == 0, err[-3000:]
    _check_resumed(tmp_path, saved, folder)


@pytest.mark.slow  # two worker processes and a replacement: about a minute on 2 cores
def test_a_worker_stopped_by_sigterm_leaves_its_trial_to_the_next_worker(tmp_path):
    search = _search(tmp_path, workers=2, trials=2)
    worker = _worker_of_trial_0(tmp_path, search)
    _once_saved(tmp_path, search, epoch=STOP_AT)
    os.kill(worker, signal.SIGTERM)  # a preempted worker: the Ctrl-C path, a save at the batch's end
    _, err = search.communicate(timeout=240)
    assert search.returncode == 0, err[-3000:]
    assert not process_alive(worker)
    retry = _check_resumed(tmp_path, None, at_least=STOP_AT)  # its checkpoint is gone by now
    assert int(retry.user_attrs["worker"].rsplit(":", 1)[1]) != worker
