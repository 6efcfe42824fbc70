import pytest

from automl.datasets import load_dataset


@pytest.fixture(scope="session")
def wine():
    """178 rows, 13 features, 3 classes: a real dataset small enough for many 2-epoch trials."""
    return load_dataset("wine", seed=0)


@pytest.fixture
def space_file(tmp_path):
    """Write a small MLP space with the given parameter lines; returns its path."""

    def write(body: str, name: str = "small") -> str:
        path = tmp_path / f"{name}.yaml"
        path.write_text(f"version: 1\nname: {name}\nfamily: mlp\nparameters:\n{body}")
        return str(path)

    return write
