"""A trained model loads with plain Keras: no custom objects, no automl import."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from automl._keras import keras
from automl.training import train

CONFIG = {
    "depth": 2,
    "units_0": 16,
    "units_1": 8,
    "activation": "selu",
    "dropout": 0.1,
    "batch_norm": True,
    "l1": 1e-6,
    "l2": 1e-5,
    "optimizer": "adamw",
    "learning_rate": 0.01,
    "lr_schedule": "cosine",
    "batch_size": 64,
    "epochs": 2,
}


def test_saved_model_needs_no_custom_objects(cancer, tmp_path) -> None:
    result = train({**CONFIG, "lr_schedule": "warmup_hold_decay", "epochs": 1}, cancer)
    result.model.save(tmp_path / "model.keras")
    loaded = keras.models.load_model(tmp_path / "model.keras", custom_objects={}, safe_mode=True)
    np.testing.assert_allclose(
        loaded.predict(cancer.x_val, verbose=0), result.model.predict(cancer.x_val, verbose=0), rtol=1e-6
    )
    assert isinstance(loaded.optimizer.get_config()["learning_rate"], float)


@pytest.mark.slow
def test_saved_model_loads_with_plain_keras_in_a_fresh_process(digits, tmp_path) -> None:
    result = train(CONFIG, digits)
    path, inputs = tmp_path / "model.keras", tmp_path / "x.npy"
    result.model.save(path)
    np.save(inputs, digits.x_val[:20])
    expected = result.model.predict(digits.x_val[:20], verbose=0)
    code = textwrap.dedent(f"""
        import sys, numpy as np, keras
        model = keras.models.load_model({str(path)!r})
        assert isinstance(model.optimizer.get_config()["learning_rate"], float)
        assert "automl" not in sys.modules
        np.save({str(tmp_path / "out.npy")!r}, model.predict(np.load({str(inputs)!r}), verbose=0))
    """)
    env = {**os.environ, "KERAS_BACKEND": "tensorflow", "TF_CPP_MIN_LOG_LEVEL": "3"}
    subprocess.run([sys.executable, "-c", code], check=True, env=env, cwd=tmp_path, timeout=120)
    np.testing.assert_allclose(np.load(tmp_path / "out.npy"), expected, rtol=1e-5, atol=1e-6)
