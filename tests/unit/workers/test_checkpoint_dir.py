"""Where running trials keep their checkpoints: the folder given (``--checkpoint-dir``), else
``AUTOML_CHECKPOINT_DIR``, else the run directory's; the run records a folder given, a resume keeps it,
and the worker processes are told it. (That a trial really saves there and resumes from there:
tests/faults/test_long_trials.py.)"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from automl.engine import CHECKPOINT_DIR_VARIABLE, WorkerSpec, checkpoint_folder
from automl.exceptions import UserError
from automl.space import load_space
from automl.store import BackendEntry, DatasetEntry, RunManifest, SpaceEntry, read_manifest, write_manifest
from automl.workers import prepare_run

STUDY = "run/iris/tiny/optuna-tpe"


def test_the_folder_given_wins_over_the_variable_and_the_run_directory(tmp_path, monkeypatch):
    run = tmp_path / "run"
    monkeypatch.delenv(CHECKPOINT_DIR_VARIABLE, raising=False)
    assert checkpoint_folder(run, STUDY) == run / "checkpoints" / "run-iris-tiny-optuna-tpe"
    assert checkpoint_folder(None, STUDY) is None  # a remote worker with no shared folder
    monkeypatch.setenv(CHECKPOINT_DIR_VARIABLE, str(tmp_path / "shared"))
    assert checkpoint_folder(run, STUDY) == tmp_path / "shared" / "run-iris-tiny-optuna-tpe"
    assert (
        checkpoint_folder(run, STUDY, tmp_path / "given") == tmp_path / "given" / "run-iris-tiny-optuna-tpe"
    )
    assert (
        checkpoint_folder(None, STUDY, tmp_path / "given") == tmp_path / "given" / "run-iris-tiny-optuna-tpe"
    )


def test_a_worker_is_told_the_folder_given():
    spec = WorkerSpec(storage="sqlite:///x.db", study=STUDY, slot={}, checkpoint_dir="/mnt/shared/ckpt")
    assert WorkerSpec.from_json(spec.to_json()).checkpoint_dir == "/mnt/shared/ckpt"
    assert WorkerSpec(storage="sqlite:///x.db", study=STUDY, slot={}).checkpoint_dir is None


def _prepare(tmp_path: Path, **options) -> object:
    return prepare_run(
        name=None, run_dir=tmp_path / "run", default_name="run", storage=None, kind="search", **options
    )


def test_the_run_takes_the_folder_given_absolute_and_a_resume_keeps_it(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    prepared = _prepare(tmp_path, resume=False, overwrite=False, checkpoint_dir="ckpt")
    assert prepared.checkpoint_dir == tmp_path / "ckpt" and (tmp_path / "ckpt").is_dir()
    space = load_space("tiny")
    manifest = RunManifest(
        kind="search", name="run", datasets=(DatasetEntry(name="iris", source="iris"),),
        spaces=(SpaceEntry.of(space),), backend=BackendEntry("optuna", "tpe"), studies=(),
        checkpoint_dir=str(prepared.checkpoint_dir),
    )  # fmt: skip
    write_manifest(prepared.run, prepared.storage, manifest)
    assert read_manifest(prepared.run).checkpoint_dir == str(tmp_path / "ckpt")  # recorded
    assert (
        RunManifest.from_dict(dataclasses.replace(manifest, checkpoint_dir=None).to_dict()).checkpoint_dir
        is None
    )

    resumed = _prepare(tmp_path, resume=True, overwrite=False)  # no folder given: the recorded one
    assert resumed.checkpoint_dir == tmp_path / "ckpt"
    moved = _prepare(tmp_path, resume=True, overwrite=False, checkpoint_dir=tmp_path / "elsewhere")
    assert moved.checkpoint_dir == tmp_path / "elsewhere"
    assert _prepare(tmp_path, resume=False, overwrite=True).checkpoint_dir is None  # a new run: the default


def test_a_folder_that_cannot_be_written_is_one_line_before_any_work(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    with pytest.raises(UserError) as caught:
        _prepare(tmp_path, resume=False, overwrite=False, checkpoint_dir=blocker / "ckpt")
    assert str(caught.value).startswith(f"`checkpoint_dir` {blocker / 'ckpt'} cannot be written here (")
    assert not (tmp_path / "run").exists()


def test_the_command_line_names_the_flag(tmp_path, cli):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    code, _, err = cli(
        ["search", "-d", "iris", "-s", "tiny", "--trials", "1", "--run-dir", str(tmp_path / "run"),
         "--checkpoint-dir", str(blocker / "ckpt"), "-q", "--no-report"]
    )  # fmt: skip
    assert code == 2 and f"--checkpoint-dir {blocker / 'ckpt'} cannot be written here" in err
