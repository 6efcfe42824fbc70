"""The CLI's light commands must not pay TensorFlow's import (several seconds per process)."""

import subprocess
import sys

import pytest

PROBE = """
import sys
from automl.cli import main
try:
    main({argv!r})
except SystemExit as exit:
    code = exit.code
else:
    code = 0
heavy = sorted(m for m in ("tensorflow", "keras", "optuna", "keras_tuner") if m in sys.modules)
print("HEAVY=" + ",".join(heavy))
sys.exit(code or 0)
"""


@pytest.mark.parametrize(
    "argv",
    [
        ["--help"],
        ["spaces", "list"],
        ["spaces", "show", "mlp"],
        ["spaces", "validate", "search_spaces/mlp.yaml"],
        ["datasets", "--help"],
        ["search", "--help"],
        ["backends"],
        ["backends", "--format", "markdown"],
    ],
)
def test_light_commands_do_not_import_tensorflow(argv):
    result = subprocess.run(
        [sys.executable, "-c", PROBE.format(argv=argv)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert "HEAVY=\n" in result.stdout, result.stdout[-500:]


def test_import_automl_is_light():
    code = "import sys, automl; print(sorted(m for m in ('tensorflow', 'keras', 'optuna', 'sklearn') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr
