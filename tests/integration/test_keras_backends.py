"""A run on the JAX backend, end to end through the CLI: recorded, resumed only on JAX, retrained on JAX,
and its saved model loads with plain Keras on JAX and on TensorFlow with the same predictions."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys

import numpy as np
import pytest
import yaml

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("jax") is None or importlib.util.find_spec("tensorflow") is None,
    reason="needs both JAX and TensorFlow installed (the dev extra has both)",
)

PREDICT = (
    "import json, sys, numpy as np, keras\n"
    "model = keras.models.load_model(sys.argv[1])\n"
    "print(json.dumps([keras.backend.backend(), np.asarray(model(np.load(sys.argv[2]))).tolist()]))\n"
)


def automl(*args: str, backend: str | None = None, check: bool = True) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "KERAS_BACKEND"}
    if backend is not None:
        env["KERAS_BACKEND"] = backend
    result = subprocess.run(
        [sys.executable, "-m", "automl", *args], capture_output=True, text=True, env=env, timeout=600
    )
    if check:
        assert result.returncode == 0, result.stderr[-3000:]
    return result


@pytest.fixture(scope="module")
def jax_run(tmp_path_factory):
    run = tmp_path_factory.mktemp("jax") / "run"
    automl(
        "search", "--dataset", "wine", "--space", "tiny", "--trials", "2", "--workers", "1",
        "--keras-backend", "jax", "--run-dir", str(run), "--no-report", "--quiet",
    )  # fmt: skip
    # No KERAS_BACKEND here: retrain trains on the backend the run recorded.
    automl("retrain", str(run))
    return run


def test_the_run_records_jax_and_a_resume_on_another_backend_is_one_line(jax_run):
    manifest = yaml.safe_load((jax_run / "run.yaml").read_text())
    assert manifest["keras_backend"] == "jax" and "jax" in manifest["environment"]["versions"]
    result = automl(
        "search", "--dataset", "wine", "--space", "tiny", "--trials", "3", "--workers", "1",
        "--run-dir", str(jax_run), "--resume", "--keras-backend", "tensorflow", check=False,
    )  # fmt: skip
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode == 2 and len(lines) == 1, result.stderr
    assert "this run trains on Keras backend 'jax', not 'tensorflow'" in lines[0]


def test_the_retrained_model_loads_with_plain_keras_on_jax_and_on_tensorflow(jax_run, tmp_path):
    from automl.datasets import load_dataset

    folder = jax_run / "models" / "wine"
    metrics = json.loads((folder / "metrics.json").read_text())
    rows = tmp_path / "x.npy"
    np.save(rows, load_dataset("wine").x_test.astype(np.float32))
    outputs = {}
    for backend in ("jax", "tensorflow"):
        env = {**os.environ, "KERAS_BACKEND": backend}
        done = subprocess.run(
            [sys.executable, "-c", PREDICT, str(folder / "model.keras"), str(rows)],
            capture_output=True, text=True, env=env, timeout=300,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr[-3000:]
        loaded_on, predictions = json.loads(done.stdout.strip().splitlines()[-1])
        assert loaded_on == backend
        outputs[backend] = np.asarray(predictions)
    assert outputs["jax"].shape == (len(load_dataset("wine").y_test), 3)
    np.testing.assert_allclose(outputs["jax"], outputs["tensorflow"], atol=1e-5)
    accuracy = float(np.mean(outputs["jax"].argmax(axis=1) == load_dataset("wine").y_test))
    assert metrics["deployed_test_score"] == pytest.approx(accuracy)
