"""Choosing the Keras backend: the setting, the run's record, and one-line refusals."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys

import pytest

from automl.exceptions import MissingDependency, UserError
from automl.keras_backend import (
    KERAS_BACKENDS,
    chosen_keras_backend,
    resumed_keras_backend,
    use_keras_backend,
)


@pytest.fixture
def keras_backend_env(monkeypatch):
    """Whatever a test sets in KERAS_BACKEND is undone after it."""
    monkeypatch.setenv("KERAS_BACKEND", os.environ.get("KERAS_BACKEND", "tensorflow"))


def one_line(error: BaseException) -> str:
    text = str(error)
    assert "\n" not in text, text
    return text


def test_an_unknown_backend_is_one_line_naming_the_setting_and_the_choices():
    with pytest.raises(UserError) as caught:
        use_keras_backend("mxnet")
    assert one_line(caught.value) == (
        "`keras_backend`: unknown Keras backend 'mxnet'; use one of tensorflow, jax, torch"
    )


def test_a_backend_not_installed_names_what_installs_it(keras_backend_env, monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "jax" else real(name, *a)
    )
    if chosen_keras_backend() != "jax" and "keras" in sys.modules:
        pytest.skip("Keras is loaded here with another backend: that refusal comes first")
    with pytest.raises(MissingDependency) as caught:
        use_keras_backend("jax")
    assert "Keras backend 'jax' is not installed here; install it (pip install 'automl[jax]')" in one_line(
        caught.value
    )


def test_keras_already_loaded_with_another_backend_is_refused(keras_backend_env):
    from automl import _keras  # loads Keras on the suite's backend

    other = next(b for b in KERAS_BACKENDS if b != _keras.BACKEND)
    with pytest.raises(UserError) as caught:
        use_keras_backend(other)
    assert f"but Keras is already loaded in this process with {_keras.BACKEND!r}" in one_line(caught.value)
    assert use_keras_backend(None) == _keras.BACKEND == use_keras_backend(_keras.BACKEND.upper())


def test_a_resumed_run_keeps_its_backend_and_refuses_another(keras_backend_env):
    from automl import _keras

    recorded = _keras.BACKEND
    assert resumed_keras_backend(recorded, None) == recorded == os.environ["KERAS_BACKEND"]
    other = next(b for b in KERAS_BACKENDS if b != recorded)
    with pytest.raises(UserError) as caught:
        resumed_keras_backend(recorded, other)
    assert one_line(caught.value) == (
        f"`keras_backend`: this run trains on Keras backend {recorded!r}, not {other!r}; leave the setting "
        "out, or start a new run"
    )


def test_experiment_files_take_keras_backend_and_name_the_line_of_a_bad_one(tmp_path):
    from automl.experiment import parse_experiment

    path = tmp_path / "exp.yaml"
    path.write_text("datasets: [wine]\nspaces: [tiny]\nbudget: {trials: 4}\nkeras_backend: jax\n")
    assert parse_experiment(path).keras_backend == "jax"
    path.write_text("datasets: [wine]\nspaces: [tiny]\nbudget: {trials: 4}\n")
    assert parse_experiment(path).keras_backend is None
    path.write_text("datasets: [wine]\nspaces: [tiny]\nbudget: {trials: 4}\nkeras_backend: theano\n")
    with pytest.raises(UserError) as caught:
        parse_experiment(path)
    assert one_line(caught.value) == (
        f"{path}:4: keras_backend: give one of tensorflow, jax, torch, not 'theano'"
    )


def test_the_cli_refuses_an_unknown_backend_in_one_line_before_any_work(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "automl", "search", "--dataset", "iris", "--space", "tiny", "--trials", "1",
         "--run-dir", str(tmp_path / "run"), "--keras-backend", "mxnet"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 2, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "--keras-backend: unknown Keras backend 'mxnet'" in lines[0], result.stderr
    assert not (tmp_path / "run").exists()
