from pathlib import Path

import pytest

from automl.exceptions import SpaceError, UserError
from automl.space import load_space

HEADER = "version: 1\nname: t\nfamily: mlp\nparameters:\n"


def write(tmp_path: Path, body: str, header: str = HEADER) -> Path:
    path = tmp_path / "space.yaml"
    path.write_text(header + body)
    return path


@pytest.mark.parametrize(
    ("body", "line", "fragment"),
    [
        (
            "  depth: {type: int, lo: 1, high: 3}\n",
            5,
            "parameters.depth: unknown key 'lo' (did you mean 'low'?)",
        ),
        (
            "  depth: {type: int, low: 4, high: 1}\n",
            5,
            "parameters.depth: `low <= high` must hold, but got low=4, high=1",
        ),
        ("  lr: {type: float, low: 0.1, high: 1}\n", 5, "parameters.lr: unknown parameter for family mlp"),
        ("  learning_rate: {type: float, low: 0.0, high: 1.0, log: true}\n", 5, "`log: true` needs low > 0"),
        (
            "  learning_rate: {type: float, low: 0.001, high: 1.0, log: true, step: 0.1}\n",
            5,
            "remove one of them",
        ),
        ("  activation: {type: choice, values: [relu, swish, mish]}\n", 5, "unknown activation 'mish'"),
        (
            "  depth: {type: int, low: 1, high: 2}\n  momentum: {type: float, low: 0, high: 1, active_if: {optimizer: [sgd]}}\n",
            6,
            "condition on 'optimizer', which is not a parameter",
        ),
        ("  depth: {type: integer, low: 1, high: 2}\n", 5, "unknown type 'integer'"),
        ("  depth: {low: 1, high: 2}\n", 5, "depth.type: missing"),
        ("  depth: {type: int, high: 2}\n", 5, "an int needs `low`; add it"),
    ],
)
def test_errors_name_file_line_key_and_fix(tmp_path, body, line, fragment):
    path = write(tmp_path, body)
    with pytest.raises(SpaceError) as info:
        load_space(path)
    message = str(info.value)
    assert message.startswith(f"{path}:{line}: "), message
    assert fragment in message
    assert "\n" not in message


def test_malformed_yaml_names_line(tmp_path):
    path = write(tmp_path, "  depth: {type: int, low: 1, high: 3\n  units: [\n")
    with pytest.raises(SpaceError, match=rf"{path}:\d+: malformed YAML"):
        load_space(path)


def test_unknown_top_level_key_and_version(tmp_path):
    path = write(
        tmp_path, "  depth: {type: int, low: 1, high: 3}\n", header="version: 1\nfamilly: mlp\nparameters:\n"
    )
    with pytest.raises(SpaceError, match=r":2: unknown key 'familly' \(did you mean 'family'\?\)"):
        load_space(path)
    path = write(tmp_path, "  depth: {type: int, low: 1, high: 3}\n", header="version: 2\nparameters:\n")
    with pytest.raises(SpaceError, match=r":1: version: 2 is not supported"):
        load_space(path)


def test_shorthands_and_name_from_file_stem(tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text("parameters:\n  activation: [relu, tanh]\n  epochs: 5\n")
    space = load_space(path)
    assert space.name == "mine"
    assert space["activation"].values == ("relu", "tanh")
    assert space.sample(0)["epochs"] == 5


def test_unknown_name_lists_shipped_spaces():
    with pytest.raises(SpaceError) as info:
        load_space("mpl")
    message = str(info.value)
    assert "unknown search space 'mpl' (did you mean 'mlp'?)" in message
    assert "cnn" in message and "tiny" in message


def test_missing_file(tmp_path):
    with pytest.raises(SpaceError, match="file not found"):
        load_space(tmp_path / "nope.yaml")


def test_space_error_is_a_user_error_and_value_error():
    with pytest.raises(UserError):
        load_space("nope")
    with pytest.raises(ValueError):
        load_space("nope")
