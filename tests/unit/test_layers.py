"""The package's layers, as pyproject's [tool.importlinter] declares them, hold: an upward import, a
cycle between packages or a private module imported from another package fails the suite."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_every_import_contract_is_kept():
    beside = Path(sys.executable).parent / "lint-imports"
    lint = str(beside) if beside.exists() else shutil.which("lint-imports")
    if lint is None:
        pytest.fail("lint-imports is missing: install the dev extra (pip install -e '.[dev]')")
    done = subprocess.run([lint, "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]


def test_the_contracts_name_every_package():
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["importlinter"]
    [layers] = [c["layers"] for c in config["contracts"] if c["type"] == "layers"]
    named = {name.strip() for layer in layers for name in layer.split("|")}
    package = ROOT / "automl"
    found = {f"automl.{p.name}" for p in package.iterdir() if (p / "__init__.py").exists()}
    found |= {f"automl.{p.stem}" for p in package.glob("*.py") if p.stem not in ("__init__", "__main__")}
    assert found <= named, f"packages or modules in no layer: {sorted(found - named)}"
