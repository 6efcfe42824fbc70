"""Importing automl.datasets stays light: no TensorFlow, no Keras, no scikit-learn."""

from __future__ import annotations

import subprocess
import sys


def test_import_does_not_load_keras_tensorflow_or_sklearn() -> None:
    code = (
        "import sys, automl.datasets; "
        "heavy = [m for m in ('tensorflow', 'keras', 'sklearn') if m in sys.modules]; "
        "assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_public_api() -> None:
    import automl.datasets as datasets

    for name in datasets.__all__:
        assert hasattr(datasets, name), name
    assert {
        "Dataset",
        "load_dataset",
        "list_datasets",
        "register_dataset",
        "Preprocessor",
        "validation_baselines",
    } <= set(datasets.__all__)
