"""Faults, a full disk: the work stops with one line naming the directory, every finished trial is kept, and
the same command with ``--resume`` goes on once space is freed.

As root on Linux (CI), the run directory lives on a small tmpfs filled with a ballast file; elsewhere those
tests skip and the injected ones (ENOSPC raised at the write) still run. Process tests assert: exit status
74, one line and no traceback, nothing of the search alive afterwards, no trial left RUNNING, every
finished trial kept, unique trial numbers and the budget met after the resume.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import optuna
import pytest
from small_space import space

from automl._diskspace import is_disk_full, writing
from automl.exceptions import DiskFull
from automl.store import RunDir, prepare_run_dir, process_alive

TRIALS = 8


@pytest.fixture
def small_disk(tmp_path):
    """A 4 MiB tmpfs at ``tmp_path/disk`` (root on Linux only), unmounted after the test whatever happens."""
    if not sys.platform.startswith("linux") or os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root on Linux (CI runs these as root)")
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(disk)], capture_output=True, text=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


def _fill(disk: Path) -> Path:
    """Fill ``disk`` with a ballast file until a write finds no space; the ballast's path."""
    ballast = disk / "ballast"
    with ballast.open("wb") as handle:
        with contextlib.suppress(OSError):
            while True:
                handle.write(b"\0" * 65536)
                handle.flush()
        with contextlib.suppress(OSError):
            handle.close()
    return ballast


# ---------------------------------------------------------------------------------------------- the rules
@pytest.mark.parametrize(
    "error",
    [
        OSError(errno.ENOSPC, "No space left on device"),
        OSError(errno.EDQUOT, "Disk quota exceeded"),
        OSError(
            "Unable to synchronously write data (file write failed: errno = 28, No space left on device)"
        ),
        sqlite3.OperationalError("database or disk is full"),
    ],
)
def test_a_full_disk_is_told_apart_also_under_wrappers(error):
    assert is_disk_full(error)
    try:
        try:
            raise error
        except Exception as cause:
            raise optuna.exceptions.StorageInternalError("commit failed") from cause
    except Exception as wrapped:
        assert is_disk_full(wrapped)


@pytest.mark.parametrize(
    "error",
    [
        OSError(errno.EACCES, "Permission denied"),
        sqlite3.OperationalError("database is locked"),
        ValueError(),
    ],
)
def test_other_errors_are_not_a_full_disk_and_pass_unchanged(tmp_path, error):
    assert not is_disk_full(error)
    with pytest.raises(type(error)), writing(tmp_path):
        raise error


def test_writing_says_one_line_naming_the_directory_and_the_fix(tmp_path):
    with pytest.raises(DiskFull) as caught, writing(tmp_path / "run"):
        raise OSError(errno.ENOSPC, "No space left on device")
    message = str(caught.value)
    assert "\n" not in message and str(tmp_path / "run") in message
    assert "free space" in message and "`resume`" in message
    assert caught.value.exit_status == 74


# ------------------------------------------------------------------------------- the run directory, real
def test_the_run_log_on_a_full_disk_raises_once_then_stays_quiet(small_disk):
    run = prepare_run_dir(small_disk / "run", resume=False, overwrite=False)
    handler = run.attach_log()
    log = logging.getLogger("automl.test_disk_full")
    try:
        log.info("before")
        _fill(small_disk)
        with pytest.raises(DiskFull, match=str(run.path)):
            for _ in range(2000):  # past the page the log file holds already
                log.info("a record that finds no room " + "x" * 200)
        log.info("after: dropped, not raised")
    finally:
        RunDir.detach_log(handler)


def test_a_run_directory_on_a_full_disk_is_disk_full_not_a_user_error(tmp_path, monkeypatch):
    """Injected (a full tmpfs still takes empty files): the probe write finds no space."""

    def full(self, *args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Path, "write_text", full)
    with pytest.raises(DiskFull, match=str(tmp_path / "run")):
        prepare_run_dir(tmp_path / "run", resume=False, overwrite=False)


# ------------------------------------------------------------------------------------- automl search
def _search(run: Path, space_file: str, *extra: str) -> subprocess.Popen[str]:
    command = [
        sys.executable, "-m", "automl", "search", "-d", "iris", "-s", space_file, "--trials", str(TRIALS),
        "--workers", "2", "--run-dir", str(run), "--algorithm", "random", "--no-report", "-q", *extra,
    ]  # fmt: skip
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _trials(storage: str) -> list[optuna.trial.FrozenTrial]:
    study = optuna.load_study(study_name=optuna.get_all_study_names(storage)[0], storage=storage)
    return study.get_trials(deepcopy=False)


def _once_finished(storage: str, count: int, process: subprocess.Popen[str]) -> None:
    ends = time.monotonic() + 120
    while time.monotonic() < ends and process.poll() is None:
        time.sleep(0.2)
        with contextlib.suppress(Exception):  # the tables may not exist yet
            if sum(t.state.is_finished() for t in _trials(storage)) >= count:
                return
    raise AssertionError(f"no {count} finished trials in time: {process.communicate()[1][-2000:]}")


def _pids(trials: list[optuna.trial.FrozenTrial]) -> set[int]:
    return {int(str(t.user_attrs["worker"]).rsplit(":", 1)[1]) for t in trials if "worker" in t.user_attrs}


def test_a_sqlite_store_on_a_full_disk_is_disk_full_naming_its_folder(small_disk):
    from automl.store import open_storage

    storage = open_storage(f"sqlite:///{small_disk / 'automl.db'}", heartbeat_interval=None)
    study = optuna.create_study(study_name="s", storage=storage)
    _fill(small_disk)
    with pytest.raises(DiskFull, match=f"{small_disk}.*no space left") as caught:
        for _ in range(200):  # until SQLite needs a page it has not got
            study.add_trial(optuna.trial.create_trial(params={}, distributions={}, value=0.0, user_attrs={
                "padding": "x" * 4000}))  # fmt: skip
    assert "\n" not in str(caught.value)


def test_a_search_whose_disk_fills_stops_with_one_line_and_resume_reaches_the_budget(small_disk, tmp_path):
    """The run directory, its SQLite store included, on a disk a ballast fills once two trials finished."""
    run = small_disk / "run"
    storage = f"sqlite:///{run / 'automl.db'}"
    space_file = space(tmp_path, epochs=2)
    process = _search(run, space_file)
    _once_finished(storage, 2, process)
    ballast = _fill(small_disk)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 74, err[-3000:]
    last = err.strip().splitlines()[-1]
    assert str(run) in last and "no space left" in last and "--resume" in last, err[-3000:]
    assert "Traceback" not in err, err[-3000:]
    before = _trials(storage)
    finished = {t.number: (t.state, t.value) for t in before if t.state.is_finished()}
    assert sum(state == optuna.trial.TrialState.COMPLETE for state, _ in finished.values()) >= 2
    ends = time.monotonic() + 10
    while time.monotonic() < ends and any(process_alive(pid) for pid in _pids(before)):
        time.sleep(0.2)
    assert not [pid for pid in _pids(before) if process_alive(pid)], "a worker outlived the search"

    ballast.unlink()
    resumed = _search(run, space_file, "--resume")
    _, err = resumed.communicate(timeout=150)
    assert resumed.returncode == 0, err[-3000:]
    after = _trials(storage)
    assert not [t.number for t in after if t.state == optuna.trial.TrialState.RUNNING]
    assert len({t.number for t in after}) == len(after)
    kept = {t.number: (t.state, t.value) for t in after if t.number in finished}
    assert kept == finished  # every finished trial kept as it was
    done = [t for t in after if t.state in (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)]
    assert len(done) == TRIALS


# --------------------------------------------------------------------------- the follow-ups of a search
@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    """A finished two-trial search (one epoch), shared by the follow-up tests."""
    tmp = tmp_path_factory.mktemp("finished")
    run = tmp / "run"
    command = [
        sys.executable, "-m", "automl", "search", "-d", "iris", "-s", space(tmp, epochs=1), "--trials", "2",
        "--workers", "1", "--run-dir", str(run), "--algorithm", "random", "--no-report", "-q",
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return run


def _one_line_74(done: subprocess.CompletedProcess[str], where: Path) -> None:
    assert done.returncode == 74, done.stderr[-3000:]
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and str(where) in lines[0] and "no space left" in lines[0], done.stderr[-3000:]


def test_report_into_a_full_disk_is_one_line(finished_run, small_disk):
    _fill(small_disk)
    out = small_disk / "reports"
    with contextlib.suppress(OSError):
        out.mkdir()
    done = subprocess.run(
        [sys.executable, "-m", "automl", "report", str(finished_run), "--output", str(small_disk / "r.html")],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    _one_line_74(done, small_disk)


def test_a_leaderboard_export_onto_a_full_disk_is_one_line(finished_run, small_disk):
    _fill(small_disk)
    with (small_disk / "board.csv").open("w") as target:
        done = subprocess.run(
            [sys.executable, "-m", "automl", "leaderboard", str(finished_run), "--format", "csv"],
            stdout=target, stderr=subprocess.PIPE, text=True, timeout=60,
        )  # fmt: skip
    _one_line_74(done, small_disk)


def test_the_leaderboard_a_search_writes_last_fails_as_disk_full(tmp_path, monkeypatch):
    """Injected: the run directory's leaderboard write (``AutoMLSearch``'s last) finds no space."""
    run = RunDir(tmp_path / "run")
    run.path.mkdir()

    def full(self, *args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Path, "write_text", full)
    with pytest.raises(DiskFull, match=str(run.path)), run.writing():
        run.leaderboard_file.write_text("rank\n")
