"""What each backend offers, as data: algorithms, pruners, options, and where its class lives.

The CLI's help and its early checks, experiment files, ``automl backends`` and README's table all read
this module, so none of them imports Optuna, KerasTuner or TensorFlow to learn what a backend accepts.
The backend classes read their metadata here too (:attr:`automl.backends.Backend.spec`), so one entry is
the single place to change when an algorithm or an option is added.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from automl.exceptions import UserError

__all__ = [
    "BACKENDS",
    "BackendChoice",
    "BackendSpec",
    "Option",
    "backend_spec",
    "check_backend",
    "markdown_table",
]


@dataclass(frozen=True)
class Option:
    """A setting of one algorithm or pruner that a user may change (``backend_options={"factor": 2}``).

    ``default`` is what the backend uses when the option is not given; None when the search library or
    the backend decides (``about`` then says how).
    """

    kind: type  # int, float or str
    about: str
    minimum: float | None = None
    default: int | float | str | None = None

    @property
    def help(self) -> str:
        return self.about if self.default is None else f"{self.about} (default {self.default})"

    @property
    def type_name(self) -> str:
        return {int: "integer", float: "number", str: "string"}[self.kind]

    def check(self, name: str, value: Any, owner: str) -> Any:
        """``value`` converted to :attr:`kind`; UserError naming the option and what it takes."""
        wanted = {int: "an integer", float: "a number", str: "a string"}[self.kind]
        if self.kind is str:
            ok = isinstance(value, str) and value != ""
        elif self.kind is int:
            ok = isinstance(value, int) and not isinstance(value, bool)
        else:
            ok = isinstance(value, int | float) and not isinstance(value, bool)
        if not ok:
            raise UserError(f"option {name} of {owner} takes {wanted} ({self.help}), not {value!r}")
        if self.minimum is not None and value < self.minimum:
            raise UserError(f"option {name} of {owner} must be at least {self.minimum:g}, not {value!r}")
        return self.kind(value)


@dataclass(frozen=True)
class BackendChoice:
    """A backend, algorithm, pruner and options that were checked against the registry."""

    backend: str
    algorithm: str
    pruner: str
    options: Mapping[str, Any]


@dataclass(frozen=True)
class BackendSpec:
    """One backend, declared.

    Args:
        name: What users write (``--backend``, ``backend:``).
        implementation: ``"module:Class"`` of the :class:`~automl.backends.Backend` subclass.
        algorithms: First = default.
        pruners: First = default, unless :attr:`default_pruners` names another for an algorithm.
            ``"none"`` is the pruner of algorithms that stop trials early by themselves.
        default_pruners: Algorithm -> its default pruner, where that is not the first pruner.
        options: Options of every algorithm and pruner.
        algorithm_options: Algorithm -> the options only it takes.
        pruner_options: Pruner -> the options only it takes.
        algorithm_notes, pruner_notes: A few words shown beside a name in tables (markdown allowed).
        shares_study: Whether its proposals come from the study in the store (enqueued trials
            included), so several worker processes can search one study and a trial retried after its
            process died is taken up.
        chief: For a backend whose proposals live in a coordinator process rather than in the study
            (KerasTuner's oracle), the module that runs it: ``main()`` serves the study's proposals to
            worker processes and ``environment(tuner_id, host, port)`` is what each process is told.
    """

    name: str
    implementation: str
    algorithms: tuple[str, ...]
    pruners: tuple[str, ...] = ("none",)
    default_pruners: Mapping[str, str] = field(default_factory=dict)
    options: Mapping[str, Option] = field(default_factory=dict)
    algorithm_options: Mapping[str, Mapping[str, Option]] = field(default_factory=dict)
    pruner_options: Mapping[str, Mapping[str, Option]] = field(default_factory=dict)
    algorithm_notes: Mapping[str, str] = field(default_factory=dict)
    pruner_notes: Mapping[str, str] = field(default_factory=dict)
    shares_study: bool = False
    chief: str | None = None

    @property
    def runs_on_workers(self) -> bool:
        """Whether worker processes can search one study with it (shared study or a chief)."""
        return self.shares_study or self.chief is not None

    def __post_init__(self) -> None:
        # A wrong declaration should fail when the registry is imported, not in a user's search.
        algorithms = (*self.default_pruners, *self.algorithm_options, *self.algorithm_notes)
        pruners = (*self.default_pruners.values(), *self.pruner_options, *self.pruner_notes)
        unknown = [a for a in algorithms if a not in self.algorithms]
        unknown += [p for p in pruners if p not in self.pruners]
        if not self.algorithms or not self.pruners or unknown:
            raise ValueError(f"backend {self.name}: no algorithm, no pruner, or unknown names {unknown}")

    def default_pruner(self, algorithm: str) -> str:
        return self.default_pruners.get(algorithm, self.pruners[0])

    def options_for(self, algorithm: str, pruner: str) -> dict[str, Option]:
        """The options ``algorithm`` under ``pruner`` takes, by name."""
        return {
            **self.algorithm_options.get(algorithm, {}),
            **self.pruner_options.get(pruner, {}),
            **self.options,
        }

    def owner(self, algorithm: str, pruner: str) -> str:
        return f"{self.name}/{algorithm}" + (f" with pruner {pruner}" if pruner != "none" else "")

    def check_algorithm(self, algorithm: str | None) -> str:
        """``algorithm``, or the default when None; UserError naming the valid ones."""
        chosen = algorithm or self.algorithms[0]
        if chosen not in self.algorithms:
            raise UserError(
                f"unknown algorithm {chosen!r} for backend {self.name}; "
                f"use one of: {', '.join(self.algorithms)}"
            )
        return chosen

    def check_pruner(self, algorithm: str, pruner: str | None) -> str:
        """``pruner``, or ``algorithm``'s default when None; UserError naming the valid ones."""
        chosen = pruner or self.default_pruner(algorithm)
        if chosen not in self.pruners:
            raise UserError(
                f"unknown pruner {chosen!r} for backend {self.name}; use one of: {', '.join(self.pruners)}"
            )
        return chosen

    def check_option(self, algorithm: str, pruner: str, key: str, value: Any) -> Any:
        """``value`` of option ``key`` converted to its type; UserError naming the valid options."""
        allowed = self.options_for(algorithm, pruner)
        owner = self.owner(algorithm, pruner)
        if key not in allowed:
            choices = ", ".join(sorted(allowed)) or "none (this algorithm has no options)"
            raise UserError(f"unknown option {key!r} for {owner}; use any of: {choices}")
        return allowed[key].check(key, value, owner)

    def resolve(
        self,
        *,
        algorithm: str | None = None,
        pruner: str | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> BackendChoice:
        """Defaults filled in, then everything checked in reading order: algorithm, pruner, options."""
        chosen = self.check_algorithm(algorithm)
        chosen_pruner = self.check_pruner(chosen, pruner)
        checked = {
            key: self.check_option(chosen, chosen_pruner, key, value)
            for key, value in (options or {}).items()
        }
        return BackendChoice(self.name, chosen, chosen_pruner, checked)

    def option_groups(self) -> list[tuple[str, dict[str, Option]]]:
        """(who takes them, options by name), e.g. ``("bayesian", {...})``, ``("median pruner", {...})``.

        Options that the same algorithms (or pruners) take form one group, whatever order they were
        declared in, so a table says ``tpe, cmaes, gp: n_startup_trials`` once.
        """
        groups: list[tuple[str, dict[str, Option]]] = []
        if self.options:
            groups.append(("all", dict(self.options)))
        for owners, kind in ((self.algorithm_options, ""), (self.pruner_options, " pruner")):
            takers: dict[str, list[str]] = {}
            found: dict[str, Option] = {}
            for owner, declared in owners.items():
                for key, option in declared.items():
                    takers.setdefault(key, []).append(owner)
                    found.setdefault(key, option)
            together: dict[tuple[str, ...], dict[str, Option]] = {}
            for key, names in takers.items():
                together.setdefault(tuple(names), {})[key] = found[key]
            for owned_by, options in together.items():
                plural = "s" if kind and len(owned_by) > 1 else ""
                groups.append((", ".join(owned_by) + kind + plural, options))
        return groups


_STARTUP = Option(
    int, "random trials before the sampler's model takes over (default: trials / 4, 3 to 10)", 0
)
_RUNGS = {
    "min_resource": Option(int, "epochs of the first rung", 1, default=1),
    "reduction_factor": Option(int, "1/factor of the trials go on at each rung", 2, default=3),
}

#: every backend, by name; the first is the default.
BACKENDS: dict[str, BackendSpec] = {
    spec.name: spec
    for spec in (
        BackendSpec(
            name="optuna",
            implementation="automl.backends.optuna:OptunaBackend",
            shares_study=True,
            algorithms=("tpe", "random", "cmaes", "gp", "grid", "qmc", "nsga2"),
            pruners=("median", "successive_halving", "hyperband", "none"),
            # A grid is an exhaustive plan: pruning would leave holes in it.
            default_pruners={"grid": "none"},
            algorithm_options={
                **{algorithm: {"n_startup_trials": _STARTUP} for algorithm in ("tpe", "cmaes", "gp")},
                "nsga2": {
                    "population_size": Option(
                        int, "configs per generation (the first generation is random)", 2, default=50
                    )
                },
            },
            pruner_options={
                "median": {
                    "pruner_startup_trials": Option(
                        int, "trials finished before any is pruned", 0, default=5
                    ),
                    "n_warmup_steps": Option(
                        int, "epochs every trial runs before it can be pruned", 0, default=1
                    ),
                },
                "successive_halving": _RUNGS,
                "hyperband": _RUNGS,
            },
            algorithm_notes={"gp": "needs extra `gp`", "nsga2": "genetic; for `--objective` trade-offs"},
        ),
        BackendSpec(
            name="keras_tuner",
            implementation="automl.backends.keras_tuner:KerasTunerBackend",
            chief="automl.backends.keras_tuner._chief",
            algorithms=("random", "bayesian", "hyperband", "grid"),
            options={
                "directory": Option(str, "the KerasTuner project folder (default <run dir>/keras_tuner)"),
            },
            algorithm_options={
                "bayesian": {
                    "num_initial_points": Option(
                        int, "random trials before the Gaussian process (default 3 per parameter)", 1
                    ),
                    "alpha": Option(float, "noise added to the Gaussian process's kernel (default 1e-4)", 0),
                    "beta": Option(
                        float, "exploration weight of the upper confidence bound (default 2.6)", 0
                    ),
                },
                "hyperband": {
                    "factor": Option(int, "1/factor of the models go on to each next round", 2, default=3),
                    "hyperband_iterations": Option(
                        int, "rounds of the whole algorithm (default: until the budget ends)", 1
                    ),
                },
            },
            pruner_notes={"none": "Hyperband stops trials itself"},
        ),
    )
}


def backend_spec(name: str) -> BackendSpec:
    """The entry of backend ``name``; UserError listing the known backends."""
    spec = BACKENDS.get(name)
    if spec is None:
        raise UserError(f"unknown backend {name!r}; use one of: {', '.join(BACKENDS)}")
    return spec


def check_backend(
    name: str,
    *,
    algorithm: str | None = None,
    pruner: str | None = None,
    options: Mapping[str, Any] | None = None,
) -> BackendChoice:
    """Check a backend choice without importing the backend; the same UserErrors as constructing it."""
    return backend_spec(name).resolve(algorithm=algorithm, pruner=pruner, options=options)


# ---------------------------------------------------------------------------------------- descriptions
def _names(names: Iterable[str], default: str | None, notes: Mapping[str, str], markdown: bool) -> str:
    out = []
    for name in names:
        remarks = ["default"] if name == default else []
        remarks += [notes[name]] if name in notes else []
        text = _code(name, markdown) + (f" ({'; '.join(remarks)})" if remarks else "")
        out.append(text if markdown else re.sub(r"`([^`]*)`", r"\1", text))
    return ", ".join(out)


def _code(name: str, markdown: bool) -> str:
    return f"`{name}`" if markdown else name


def describe_algorithms(spec: BackendSpec, *, markdown: bool = True) -> str:
    """``tpe (default), random, …``, with each algorithm's note."""
    return _names(spec.algorithms, spec.algorithms[0], spec.algorithm_notes, markdown)


def describe_pruners(spec: BackendSpec, *, markdown: bool = True) -> str:
    """``median (default; none for grid), …``; a lone pruner is not marked as the default."""
    if len(spec.pruners) == 1:
        return _names(spec.pruners, None, spec.pruner_notes, markdown)
    default = spec.pruners[0]
    notes = dict(spec.pruner_notes)
    exceptions: dict[str, list[str]] = {}
    for algorithm, pruner in spec.default_pruners.items():
        exceptions.setdefault(pruner, []).append(_code(algorithm, markdown))
    if exceptions:
        extra = "; ".join(f"{_code(p, markdown)} for {', '.join(a)}" for p, a in exceptions.items())
        notes[default] = f"{extra}; {notes[default]}" if default in notes else extra
    return _names(spec.pruners, default, notes, markdown)


def describe_options(spec: BackendSpec, *, markdown: bool = True) -> str:
    """``bayesian: num_initial_points, alpha, beta; hyperband: factor, …`` (``none`` without options)."""
    groups = spec.option_groups()
    return (
        "; ".join(f"{who}: {', '.join(_code(k, markdown) for k in keys)}" for who, keys in groups) or "none"
    )


def markdown_table() -> str:
    """The backends table of README.md (a test keeps the two equal)."""
    lines = ["| backend | algorithms | pruners | options |", "|---|---|---|---|"]
    for spec in BACKENDS.values():
        cells = (f"`{spec.name}`", describe_algorithms(spec), describe_pruners(spec), describe_options(spec))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
