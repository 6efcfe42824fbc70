"""The backend registry: what each backend accepts, checked and described without importing a backend."""

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

from automl.backends import get_backend
from automl.backends._registry import (
    BACKENDS,
    BackendSpec,
    Option,
    backend_spec,
    check_backend,
    markdown_table,
)
from automl.exceptions import UserError

ROOT = Path(__file__).resolve().parents[3]

LIGHT_PROBE = """
import sys
from pathlib import Path
from automl.backends import _registry
from automl.experiment._config import parse_experiment
from automl.cli._search import search_command

_registry.check_backend("keras_tuner", algorithm="hyperband", options={"factor": 2, "directory": "kt"})
_registry.markdown_table()
path = Path(sys.argv[1])
path.write_text(
    "datasets: [iris]\\nspaces: [tiny]\\nbudget: {trials: 2}\\n"
    "backend: {name: keras_tuner, algorithm: bayesian, options: {alpha: 0.001}}\\n"
)
parse_experiment(path)
print("HEAVY=" + ",".join(m for m in ("optuna", "keras_tuner", "keras", "tensorflow") if m in sys.modules))
"""


def test_checking_and_describing_backends_imports_no_search_library(tmp_path):
    result = subprocess.run(
        [sys.executable, "-c", LIGHT_PROBE, str(tmp_path / "exp.yaml")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "HEAVY=\n" in result.stdout, result.stdout[-500:]


def test_readme_table_is_the_rendered_registry():
    readme = (ROOT / "README.md").read_text()
    rows = [line for line in readme.splitlines() if line.startswith("| ") or line.startswith("|---")]
    start = rows.index("| backend | algorithms | pruners | options |")
    table = rows[start : start + 2 + len(BACKENDS)]
    assert "\n".join(table) + "\n" == markdown_table(), (
        "README.md's backends table differs from the registry; paste `automl backends --format markdown`"
    )


def test_every_entry_names_an_importable_class_of_the_same_name():
    for spec in BACKENDS.values():
        module, _ = spec.implementation.split(":")
        assert importlib.util.find_spec(module) is not None, spec.implementation
    cls = get_backend("optuna")
    assert cls.name == "optuna" and cls.__name__ == "OptunaBackend"


@pytest.mark.parametrize(
    ("name", "kwargs", "message"),
    [
        ("sklearn", {}, "unknown backend 'sklearn'; use one of: optuna, keras_tuner"),
        ("optuna", {"algorithm": "annealing"}, "unknown algorithm 'annealing' for backend optuna; use one of: "
         "tpe, random, cmaes, gp, grid, qmc, nsga2"),
        ("optuna", {"pruner": "wilcoxon"}, "unknown pruner 'wilcoxon' for backend optuna; use one of: "
         "median, successive_halving, hyperband, none"),
        ("keras_tuner", {"pruner": "median"}, "unknown pruner 'median' for backend keras_tuner; use one of: none"),
        ("optuna", {"pruner": "median", "options": {"reduction_factor": 2}},
         "unknown option 'reduction_factor' for optuna/tpe with pruner median; "
         "use any of: n_startup_trials, n_warmup_steps, pruner_startup_trials"),
        ("optuna", {"algorithm": "grid", "options": {"n_startup_trials": 2}},
         "unknown option 'n_startup_trials' for optuna/grid; use any of: none (this algorithm has no options)"),
        ("optuna", {"pruner": "hyperband", "options": {"reduction_factor": 2.5}},
         "option reduction_factor of optuna/tpe with pruner hyperband takes an integer "
         "(1/factor of the trials go on at each rung (default 3)), not 2.5"),
        ("keras_tuner", {"algorithm": "random", "options": {"factor": 2}},
         "unknown option 'factor' for keras_tuner/random; use any of: directory"),
        ("keras_tuner", {"algorithm": "hyperband", "options": {"factor": 1}},
         "option factor of keras_tuner/hyperband must be at least 2, not 1"),
        ("keras_tuner", {"options": {"directory": ""}}, "option directory of keras_tuner/random takes a string"),
    ],
)  # fmt: skip
def test_bad_choices_fail_with_one_line_naming_the_valid_ones(name, kwargs, message):
    with pytest.raises(UserError) as info:
        check_backend(name, **kwargs)
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_defaults_are_filled_in_and_options_converted():
    assert check_backend("optuna") == check_backend("optuna", algorithm="tpe", pruner="median")
    assert check_backend("optuna", algorithm="grid").pruner == "none"  # a grid is not pruned by default
    choice = check_backend("keras_tuner", algorithm="bayesian", options={"alpha": 1, "beta": 2.0})
    assert (choice.pruner, dict(choice.options)) == ("none", {"alpha": 1.0, "beta": 2.0})
    assert isinstance(choice.options["alpha"], float)


def test_a_backend_reads_its_choices_and_option_defaults_from_the_registry():
    backend = get_backend("optuna")(algorithm="random", pruner="hyperband", options={"min_resource": 2})
    assert (backend.spec, backend.algorithm, backend.pruner) == (
        backend_spec("optuna"),
        "random",
        "hyperband",
    )
    assert backend.option("min_resource") == 2
    assert backend.option("reduction_factor") == 3  # the declared default
    with pytest.raises(UserError, match="unknown option 'factor' for optuna/random with pruner hyperband"):
        get_backend("optuna")(algorithm="random", pruner="hyperband", options={"factor": 2})


def test_a_declaration_naming_an_unknown_algorithm_or_pruner_fails_at_once():
    with pytest.raises(ValueError, match="unknown names"):
        BackendSpec("x", "m:C", algorithms=("a",), default_pruners={"a": "median"})
    with pytest.raises(ValueError, match="unknown names"):
        BackendSpec("x", "m:C", algorithms=("a",), algorithm_options={"b": {"k": Option(int, "k")}})


def test_options_taken_by_the_same_owners_form_one_group():
    groups = dict(backend_spec("optuna").option_groups())
    assert list(groups["tpe, cmaes, gp"]) == ["n_startup_trials"]
    assert list(groups["successive_halving, hyperband pruners"]) == ["min_resource", "reduction_factor"]
    assert list(dict(backend_spec("keras_tuner").option_groups())["all"]) == ["directory"]


@pytest.mark.parametrize("pruner", backend_spec("optuna").pruners)
def test_every_declared_optuna_pruner_builds_from_the_declared_defaults(pruner):
    backend = get_backend("optuna")(algorithm="random", pruner=pruner)
    assert backend.make_pruner(max_epochs=9) is not None
