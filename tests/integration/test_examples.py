"""The shipped examples run as a user would run them."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_example_spaces_validate():
    from automl import load_space

    for path in (ROOT / "examples" / "spaces").glob("*.yaml"):
        assert len(load_space(path).parameters) > 0


def test_python_api_example_runs(tmp_path):
    result = subprocess.run(
        [sys.executable, "examples/python_api.py", "--trials", "2", "--run-dir", str(tmp_path / "run")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "best validation accuracy" in result.stdout and "best config:" in result.stdout
