"""The shipped examples run as a user would run them."""

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]


EXAMPLE_SPACES = sorted((ROOT / "examples" / "spaces").glob("*.yaml"))
SHIPPED_SPACES = sorted((ROOT / "search_spaces").glob("*.yaml"))


def test_the_example_and_shipped_space_folders_are_not_empty():
    from automl.space import list_spaces

    assert "regularised_mlp" in {p.stem for p in EXAMPLE_SPACES}
    assert {p.stem for p in SHIPPED_SPACES} >= {"mlp", "compact", "cnn", "tiny"}
    assert set(list_spaces()) == {p.stem for p in SHIPPED_SPACES}  # what `automl spaces list` shows


@pytest.fixture(scope="module")
def digits():
    from automl.datasets import load_dataset

    return load_dataset("digits", seed=0)  # 8x8x1 images: both the mlp and the cnn family build on it


@pytest.mark.parametrize(
    "path", [*EXAMPLE_SPACES, *SHIPPED_SPACES], ids=lambda p: f"{p.parent.name}/{p.stem}"
)
def test_example_spaces_validate(path, tmp_path, digits):
    from automl import load_space
    from automl.metrics import get_metric
    from automl.model import build_model, count_params
    from automl.space import dump_space

    space = load_space(path)
    declared = yaml.safe_load(path.read_text())
    assert space.name == declared["name"] == path.stem
    assert space.family == declared.get("family", "mlp") and space.family in ("mlp", "cnn")
    assert [p.name for p in space.declared] == list(declared["parameters"])
    assert space.fixed["epochs"] >= 1
    get_metric(space.objective, digits.task)  # `auto` or a metric of a classification task

    # The YAML automl writes (``spaces show --yaml``, a run's experiment.yaml) loads back to the same space.
    copy = tmp_path / path.name
    copy.write_text(dump_space(space))
    again = load_space(copy)
    assert again == space and again.content_hash == space.content_hash
    assert [p.name for p in again] == [p.name for p in space]
    assert dump_space(again) == dump_space(space)

    # Seeded samples are valid configs of the space, and each builds the model its plan counts.
    configs = [space.default_config(), *(space.sample(seed) for seed in range(3))]
    assert space.sample(0) == space.sample(0)
    for config in configs:
        assert space.validate_config(config) == config
        assert {p.name for p in space.parameters if space.is_active(p, config)} == set(config)
    model = build_model(configs[1], digits, family=space.family, seed=0)
    assert model.count_params() == count_params(configs[1], digits, family=space.family) > 0
    assert model.output_shape == (None, 10)


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
