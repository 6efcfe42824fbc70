"""The examples of the hand-tuning workflows, imported from their files as a reader runs them."""

from __future__ import annotations

import importlib
import importlib.util
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _load(name: str) -> ModuleType:
    """``examples/<name>/run.py`` as a module; its additions to ``sys.path`` are undone afterwards."""
    module_name = f"example_{name}"
    if module_name not in sys.modules:
        spec = importlib.util.spec_from_file_location(module_name, ROOT / "examples" / name / "run.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        saved = list(sys.path)
        try:
            spec.loader.exec_module(module)
        finally:
            sys.path[:] = saved
        sys.modules[module_name] = module
    return sys.modules[module_name]


@pytest.fixture(scope="session")
def example() -> Callable[[str], ModuleType]:
    """``example("auto_mpg")`` → the module of ``examples/auto_mpg/run.py``."""
    return _load


@pytest.fixture(scope="session")
def common() -> ModuleType:
    """``examples/_common.py`` (every example imports it)."""
    _load("auto_mpg")
    return importlib.import_module("examples._common")


@pytest.fixture(scope="session")
def digits_dataset():
    from automl.datasets import load_dataset

    return load_dataset("digits", seed=0)
