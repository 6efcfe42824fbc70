"""A small MLP space for tests that run real searches in other processes (tests/ is on sys.path, as the
folder of the root conftest)."""

from __future__ import annotations

from pathlib import Path

SPACE = """\
version: 1
name: small
family: mlp
parameters:
  depth: {type: int, low: 1, high: 2}
  units: {type: int, low: 8, high: 32, log: true, per_layer: depth}
  learning_rate: {type: float, low: 1.0e-3, high: 1.0e-1, log: true}
  batch_size: {type: choice, values: [16, 32]}
  epochs: {type: fixed, value: EPOCHS}
  patience: {type: fixed, value: EPOCHS}
"""


def space(tmp_path: Path, epochs: int = 2) -> str:
    """The space's YAML file in ``tmp_path``, with ``epochs`` (and that patience); its path."""
    path = tmp_path / "small.yaml"
    path.write_text(SPACE.replace("EPOCHS", str(epochs)))
    return str(path)
