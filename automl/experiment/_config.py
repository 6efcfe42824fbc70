"""Reading and validating an experiment file before any work starts.

Every mistake is reported as one line, ``file:line: key.path: message; fix``, so a typo in a long
experiment costs seconds, not a night of training. Validation loads the spaces (cheap, no TensorFlow)
and checks that file datasets exist; loading the data itself is left to :class:`automl.experiment.Experiment`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from automl._durations import parse_duration
from automl._yaml import YamlDocument, read_yaml
from automl.engine import parse_stop_stalled
from automl.exceptions import NO_VALUE, Argument, UserError, did_you_mean
from automl.keras_backend import KERAS_BACKENDS
from automl.objectives import parse_objectives
from automl.space import DEFAULT_SPACE
from automl.store import BudgetEntry, RetrainPolicy, RetrainPolicyError

if TYPE_CHECKING:
    from automl.space import SearchSpace

__all__ = ["DatasetSpec", "ExperimentConfig", "parse_experiment"]

_TOP_KEYS = (
    "version",
    "name",
    "datasets",
    "spaces",
    "backend",
    "budget",
    "devices",
    "storage",
    "seed",
    "metric",
    "retrain",
    "report",
    "cv",
    "warm_start",
    "checkpoint_dir",
    "keras_backend",
    "max_params",
    "objectives",
)
_DATASET_KEYS = ("path", "name", "target", "task", "persistence", "split", "validation", "test")
_BACKEND_KEYS = ("name", "algorithm", "pruner", "options")
_BUDGET_KEYS = (
    "trials",
    "timeout",
    "per",
    "trial_timeout",
    "max_consecutive_failures",
    "stop_stalled",
    "stall_tolerance",
)
_DEVICE_KEYS = ("workers", "gpus", "gpu_ids", "trials_per_gpu", "precision", "recycle_after")
_RETRAIN_KEYS = (
    "top_k",
    "seeds",
    "epochs",
    "final_fit",
    "ensemble",
    "bag",
    "time_limit",
    "pick",
    "rescore",
    "ensemble_from",
)
_TASKS = ("binary", "multiclass", "classification", "regression")
_FILE_SUFFIXES = (".csv", ".tsv", ".gz", ".parquet", ".npz")


@dataclass(frozen=True)
class DatasetSpec:
    """One dataset of the experiment: ``source`` is a built-in name or an absolute file path."""

    name: str
    source: str
    target: str | None = None
    task: str | None = None
    where: str = ""
    persistence: str | None = None
    split: str = "random"
    #: the user's own validation and test rows (absolute file paths); those splits are then not cut.
    validation: str | None = None
    test: str | None = None


@dataclass
class ExperimentConfig:
    """A validated experiment; ``where`` maps a key path (``"metric"``) to its ``file:line``."""

    name: str
    datasets: list[DatasetSpec]
    spaces: list[SearchSpace]
    backend: dict[str, Any]
    budget: BudgetEntry
    devices: dict[str, Any]
    storage: str | None
    seed: int
    metric: str | None
    retrain: RetrainPolicy | None
    report: bool
    source: str
    where: dict[str, str] = field(default_factory=dict)
    #: folds scoring each trial: a number, 0 (the validation split) or "auto" (see AutoMLSearch's ``cv``)
    cv: int | str = "auto"
    #: configs tried first: auto, portfolio, none or an earlier run's directory (see AutoMLSearch's)
    warm_start: str = "auto"
    #: where running trials keep their checkpoints (absolute; relative to the file where written so)
    checkpoint_dir: str | None = None
    #: the Keras backend trials train on (None: ``KERAS_BACKEND``, else TensorFlow)
    keras_backend: str | None = None
    #: what each search minimises beside the score (automl.objectives); None: the score alone, or on a
    #: resume what the run recorded
    objectives: tuple[str, ...] | None = None


class _Checker:
    """Raises one-line errors located in the YAML document."""

    def __init__(self, doc: YamlDocument) -> None:
        self.doc = doc

    def fail(self, path: tuple[str | int, ...], message: str | UserError) -> UserError:
        """``message`` after where ``path`` is; an error's message keeps naming its arguments."""
        dotted = ".".join(str(p) for p in path) or "(top level)"
        return UserError.of(f"{self.doc.where(path)}: {dotted}: ", message)

    def keys(self, value: Any, path: tuple[str | int, ...], allowed: tuple[str, ...]) -> dict[str, Any]:

        if not isinstance(value, dict):
            raise self.fail(
                path,
                f"expected a mapping, but got {type(value).__name__}; "
                "see examples/experiments/two_backends.yaml",
            )
        for key in value:
            if key not in allowed:
                raise self.fail(
                    (*path, str(key)),
                    f"unknown key {key!r}{did_you_mean(str(key), allowed)}; allowed: {', '.join(allowed)}",
                )
        return value

    def positive_int(self, value: Any, path: tuple[str | int, ...], what: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise self.fail(path, f"{what} must be a whole number of at least 1, but got {value!r}")
        return value

    def duration(self, value: Any, path: tuple[str | int, ...]) -> float:
        try:
            return parse_duration(value, name=".".join(str(p) for p in path))
        except UserError as exc:
            raise exc.prefixed(f"{self.doc.where(path)}: ") from None


def _datasets(check: _Checker, value: Any, base: Path) -> list[DatasetSpec]:
    from automl.datasets import SPLITS, list_datasets

    if not isinstance(value, list) or not value:
        raise check.fail(("datasets",), "give a list of at least one dataset (a built-in name or {path: …})")
    builtins = [d.name for d in list_datasets()]
    out: list[DatasetSpec] = []
    seen: dict[str, int] = {}
    for i, item in enumerate(value):
        path: tuple[str | int, ...] = ("datasets", i)
        target = task = None
        if isinstance(item, str):
            item = {"path": item} if item.endswith(_FILE_SUFFIXES) or "/" in item else {"name": item}
        entry = check.keys(item, path, _DATASET_KEYS)
        target, task = entry.get("target"), entry.get("task")
        if task is not None and task not in _TASKS:
            raise check.fail((*path, "task"), f"unknown task {task!r}; use one of: {', '.join(_TASKS)}")
        if "path" in entry:
            file = Path(str(entry["path"])).expanduser()
            file = file if file.is_absolute() else (base / file)
            if not file.exists():
                raise check.fail((*path, "path"), f"file {entry['path']!r} not found (relative to {base})")
            name, source = str(entry.get("name") or file.name.split(".")[0]), str(file.resolve())
        elif "name" in entry:
            name = source = str(entry["name"])
            if name not in builtins:
                raise check.fail(
                    path,
                    f"unknown dataset {name!r}{did_you_mean(name, builtins)}; use a built-in name "
                    f"({', '.join(builtins)}) or {{path: file.csv, target: column}}",
                )
        else:
            raise check.fail(path, "a dataset needs `path:` (a file) or `name:` (a built-in dataset)")
        if name in seen:
            raise check.fail(
                path,
                f"dataset {name!r} is listed twice (first at item {seen[name]}); "
                "remove one, or give the second another `name:`",
            )
        seen[name] = i
        persistence = entry.get("persistence")
        if persistence is not None and not isinstance(persistence, str):
            raise check.fail(
                (*path, "persistence"), "give the name of the column holding the target's last known value"
            )
        split = entry.get("split", "random")
        if split not in SPLITS:
            raise check.fail((*path, "split"), f"unknown split {split!r}; use one of: {', '.join(SPLITS)}")
        files: dict[str, str | None] = {}
        for key in ("validation", "test"):
            given = entry.get(key)
            if given is None:
                files[key] = None
                continue
            file = Path(str(given)).expanduser()
            file = file if file.is_absolute() else (base / file)
            if not file.is_file():
                raise check.fail((*path, key), f"{key} file {given!r} not found (relative to {base})")
            files[key] = str(file.resolve())
        spec = DatasetSpec(name, source, target, task, check.doc.where(path), persistence, split)
        out.append(replace(spec, validation=files["validation"], test=files["test"]))
    return out


def _spaces(check: _Checker, value: Any, base: Path) -> list[SearchSpace]:
    from automl.space import load_space

    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value:
        raise check.fail(("spaces",), "give a list of at least one search space (e.g. [tiny] or [mlp])")
    spaces: list[SearchSpace] = []
    for i, item in enumerate(value):
        text = str(item)
        if text.endswith((".yaml", ".yml", ".json")) and not Path(text).is_absolute():
            text = str(base / text)
        try:
            space = load_space(text)
        except UserError as exc:
            raise check.fail(("spaces", i), exc) from None
        if any(s.name == space.name for s in spaces):
            raise check.fail(("spaces", i), f"space {space.name!r} is listed twice; remove one")
        spaces.append(space)
    return spaces


def _backend(check: _Checker, value: Any) -> dict[str, Any]:
    # The registry, not the backend class: checking a keras_tuner section must not import TensorFlow.
    from automl.backends import registry

    if value is None:
        value = {"name": "optuna"}
    if isinstance(value, str):
        value = {"name": value}
    entry = check.keys(value, ("backend",), _BACKEND_KEYS)
    try:
        spec = registry.backend_spec(str(entry.get("name", "optuna")))
    except UserError as exc:
        raise check.fail(("backend", "name"), exc) from None
    try:
        algorithm = spec.check_algorithm(entry.get("algorithm"))
    except UserError as exc:
        raise check.fail(("backend", "algorithm"), exc) from None
    try:
        pruner = spec.check_pruner(algorithm, entry.get("pruner"))
    except UserError as exc:
        raise check.fail(("backend", "pruner"), exc) from None
    options = entry.get("options") or {}
    if not isinstance(options, dict):
        raise check.fail(("backend", "options"), "write a mapping of option: value, e.g. {factor: 2}")
    checked: dict[str, Any] = {}
    for key, value in options.items():
        try:
            checked[key] = spec.check_option(algorithm, pruner, key, value)
        except UserError as exc:
            raise check.fail(("backend", "options", key), exc) from None
    return {"name": spec.name, "algorithm": algorithm, "pruner": pruner, "options": checked}


def _budget(check: _Checker, value: Any, pairs: int) -> BudgetEntry:
    entry = check.keys(value, ("budget",), _BUDGET_KEYS)
    trials = entry.get("trials")
    if trials is not None:
        trials = check.positive_int(trials, ("budget", "trials"), "trials")
    timeout = (
        None if entry.get("timeout") is None else check.duration(entry["timeout"], ("budget", "timeout"))
    )
    if trials is None and timeout is None:
        raise check.fail(("budget",), "the budget needs `trials: N`, `timeout: 20m`, or both")
    per = entry.get("per", "dataset")
    if per not in ("dataset", "total"):
        raise check.fail(("budget", "per"), f"unknown value {per!r}; use `dataset` or `total`")
    if per == "total" and trials is not None and trials < pairs:
        raise check.fail(
            ("budget", "trials"),
            f"{trials} trials in total for {pairs} searches (datasets × spaces); give at least {pairs}",
        )
    trial_timeout = entry.get("trial_timeout")
    if trial_timeout is not None:
        trial_timeout = check.duration(trial_timeout, ("budget", "trial_timeout"))
    failures = check.positive_int(
        entry.get("max_consecutive_failures", 5), ("budget", "max_consecutive_failures"), "it"
    )
    try:
        stall_trials, stall_seconds = parse_stop_stalled(entry.get("stop_stalled"))
    except UserError:
        raise check.fail(
            ("budget", "stop_stalled"),
            f"write a number of trials (15) or a duration (10m, 1h), but got {entry['stop_stalled']!r}",
        ) from None
    tolerance = entry.get("stall_tolerance")
    if tolerance is not None and (
        isinstance(tolerance, bool) or not isinstance(tolerance, int | float) or not 0 <= tolerance < math.inf
    ):
        raise check.fail(
            ("budget", "stall_tolerance"),
            f"write a fraction of the best score, 0 or more (default 1e-3), but got {tolerance!r}",
        )
    return BudgetEntry(
        trials=trials,
        timeout=timeout,
        per=per,
        trial_timeout=trial_timeout,
        max_consecutive_failures=failures,
        stall_trials=stall_trials,
        stall_seconds=stall_seconds,
        stall_tolerance=None if tolerance is None else float(tolerance),
    )


def _devices(check: _Checker, value: Any) -> dict[str, Any]:
    """The ``devices`` entry, checked against this machine's devices now (a GPU that is not there, a
    contradiction), so the run does not fail after its datasets have loaded."""
    from automl.workers import parse_devices, plan_slots

    if value is None:
        return {}
    entry = dict(check.keys(value, ("devices",), _DEVICE_KEYS))
    recycle = entry.pop("recycle_after", None)
    if recycle is not None:
        check.positive_int(recycle, ("devices", "recycle_after"), "a worker")
    try:
        plan_slots(parse_devices(entry))
    except UserError as exc:
        # In the file the arguments are keys, written bare.
        raise check.fail(("devices",), exc.render(_as_key)) from None
    if recycle is not None:
        entry["recycle_after"] = recycle
    return entry


def _as_key(argument: Argument) -> str:
    return argument.name if argument.value is NO_VALUE else f"{argument.name}: {argument.value}"


def _retrain(check: _Checker, value: Any) -> RetrainPolicy | None:
    """The ``retrain`` section as a :class:`RetrainPolicy`, which checks it; a refusal names the line."""
    if value is False:
        return None
    if value is None or value is True:
        return RetrainPolicy()
    entry = check.keys(value, ("retrain",), _RETRAIN_KEYS)
    try:
        return RetrainPolicy(**entry)
    except RetrainPolicyError as exc:
        key = exc.key if exc.key in entry else None
        raise check.fail(("retrain",) if key is None else ("retrain", key), exc.in_file) from None


def _warm_start(check: _Checker, value: Any, base: Path) -> str:
    """``auto``, ``portfolio``, ``none``, or a run directory (relative to the experiment file)."""
    from automl.warmstart import check_warm_start

    if isinstance(value, str) and value.strip().lower() not in ("auto", "portfolio", "none"):
        value = str(base / Path(value).expanduser())
    try:
        return check_warm_start(value)
    except UserError:
        raise check.fail(
            ("warm_start",), f"give auto, portfolio, none or the directory of an earlier run, not {value!r}"
        ) from None


def parse_experiment(path: str | Path) -> ExperimentConfig:
    """Read and validate an experiment file.

    Raises:
        UserError: the first mistake, as ``file:line: key.path: message; fix`` on one line.
    """
    doc = read_yaml(path)
    check = _Checker(doc)
    data = check.keys(doc.data if doc.data is not None else {}, (), _TOP_KEYS)
    base = Path(path).resolve().parent
    version = data.get("version", 1)
    if version != 1:
        raise check.fail(("version",), f"unsupported version {version!r}; this automl reads version 1")
    name = str(data.get("name") or Path(path).stem)
    if "/" in name or name in (".", ".."):
        raise check.fail(("name",), f"{name!r} must be a plain folder name (the run goes to runs/<name>)")
    if "datasets" not in data:
        raise check.fail((), "missing `datasets:`; list the datasets to search, e.g. [digits, wine]")
    datasets = _datasets(check, data["datasets"], base)
    spaces = _spaces(check, data.get("spaces", [DEFAULT_SPACE]), base)
    max_params = data.get("max_params")
    if max_params is not None:
        if isinstance(max_params, bool) or not isinstance(max_params, int) or max_params < 1:
            raise check.fail(("max_params",), f"give a whole number of weights ≥ 1, not {max_params!r}")
        spaces = [space.with_limits(max_params=max_params) for space in spaces]  # the file's own, overridden
    backend = _backend(check, data.get("backend"))
    if "budget" not in data:
        raise check.fail((), "missing `budget:`; e.g. budget: {trials: 20, per: dataset}")
    budget = _budget(check, data["budget"], len(datasets) * len(spaces))
    devices = _devices(check, data.get("devices"))
    seed = data.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise check.fail(("seed",), f"seed must be a whole number, but got {seed!r}")
    storage = data.get("storage")
    if storage is not None and not isinstance(storage, str):
        raise check.fail(("storage",), "give `sqlite` (the run's own file) or a URL such as postgresql://…")
    report = data.get("report", True)
    if not isinstance(report, bool):
        raise check.fail(
            ("report",), f"report must be true (write report.html, the default) or false, but got {report!r}"
        )
    metric = data.get("metric")
    if metric is not None and not isinstance(metric, str):
        raise check.fail(("metric",), f"metric must be a name such as accuracy or rmse, but got {metric!r}")
    objectives = None
    if data.get("objectives") is not None:
        given = data["objectives"]
        if not isinstance(given, str | list) or not all(isinstance(n, str) for n in given):
            raise check.fail(("objectives",), f"give names such as [accuracy, size], not {given!r}")
        try:
            chosen = parse_objectives(given, metric)
        except UserError as exc:
            raise check.fail(("objectives",), str(exc).removeprefix("`objectives`: ")) from None
        metric, objectives = chosen.metric, chosen.secondary
    cv = data.get("cv", "auto")
    if cv != "auto" and (isinstance(cv, bool) or not isinstance(cv, int) or cv == 1 or cv < 0):
        raise check.fail(
            ("cv",), f"give a number of folds (2 or more), 0 for the validation split, or auto, not {cv!r}"
        )
    warm_start = _warm_start(check, data.get("warm_start", "auto"), base)
    checkpoint_dir = data.get("checkpoint_dir")
    if checkpoint_dir is not None:
        if not isinstance(checkpoint_dir, str) or not checkpoint_dir.strip():
            raise check.fail(("checkpoint_dir",), f"give a folder, not {checkpoint_dir!r}")
        checkpoint_dir = str(base / Path(checkpoint_dir).expanduser())
    keras_backend = data.get("keras_backend")
    if keras_backend is not None and keras_backend not in KERAS_BACKENDS:
        raise check.fail(
            ("keras_backend",), f"give one of {', '.join(KERAS_BACKENDS)}, not {keras_backend!r}"
        )
    return ExperimentConfig(
        name=name,
        datasets=datasets,
        spaces=spaces,
        backend=backend,
        budget=budget,
        devices=devices,
        storage=storage,
        seed=seed,
        metric=metric,
        retrain=_retrain(check, data.get("retrain", True)),
        report=report,
        cv=cv,
        warm_start=warm_start,
        checkpoint_dir=checkpoint_dir,
        keras_backend=keras_backend,
        objectives=objectives,
        source=str(path),
        where={key: doc.where((key,)) for key in data},
    )
