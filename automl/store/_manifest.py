"""The run manifest: what a run searched and how, in one typed and versioned record.

The manifest lives with the trials, as the study user attribute ``automl.manifest`` on every study of the
run, so that the storage alone (a shared server, a copied SQLite file) tells another process how to read,
continue or retrain the run, search space included. A copy goes to ``run.yaml`` in the run directory for
people and for readers that have the folder; it is not called ``experiment.yaml`` so that it cannot be
taken for (or overwrite) a user's experiment file.

Runs written before the manifest existed hold ``experiment.yaml`` (``version: 1``) instead; they are read
and converted here, so that no other module knows that format. This module is the only one that writes
or reads a manifest. No TensorFlow here.
"""

from __future__ import annotations

import json
import os
import platform
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import yaml

from automl.exceptions import UserError
from automl.store._records import _json_safe, mask_password, open_storage, storage_url_for
from automl.store._run_dir import RunDir

if TYPE_CHECKING:
    import optuna

    from automl.space import SearchSpace

__all__ = [
    "MANIFEST_ATTR",
    "MANIFEST_VERSION",
    "BackendEntry",
    "BudgetEntry",
    "DatasetEntry",
    "Environment",
    "RetrainEntry",
    "RunManifest",
    "SpaceEntry",
    "environment_info",
    "file_sha256",
    "manifest_from_storage",
    "open_run",
    "read_manifest",
    "split_files",
    "write_manifest",
]

MANIFEST_VERSION = 1
#: the study user attribute holding the manifest (a JSON object).
MANIFEST_ATTR = "automl.manifest"
KINDS = ("search", "experiment")
_PACKAGES = ("automl", "keras", "tensorflow", "optuna", "keras-tuner", "scikit-learn", "numpy", "pandas")
_HEADER = "# The manifest of this automl run, also kept in its storage; automl rewrites it on resume.\n"


def environment_info() -> dict[str, Any]:
    """Package versions, Python and hardware, recorded in the manifest so a result can be reproduced."""
    versions = {}
    for package in _PACKAGES:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            continue
    return {
        "versions": versions,
        "python": platform.python_version(),
        "hardware": {
            "platform": platform.platform(),
            "cpu_count": os.cpu_count(),
            "cuda_visible_devices": os.environ.get("CUDA_VISIBLE_DEVICES"),
        },
    }


class _Damaged(Exception):
    """A manifest that cannot be read; turned into one UserError line naming where it came from."""


def _mapping(value: Any, key: str | None) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        what = "the manifest" if key is None else f"`{key}`"
        raise _Damaged(f"{what} must be a mapping, not {type(value).__name__}")
    return dict(value)


def _text(value: Any, key: str, *, optional: bool = False) -> Any:
    if value is None and optional:
        return None
    if not isinstance(value, str):
        raise _Damaged(f"`{key}` must be a string, not {type(value).__name__}")
    return value


def _entry(cls: type[Any], value: Any, key: str, required: tuple[str, ...]) -> Any:
    """An entry dataclass from its mapping; keys a later automl may add (same version) are ignored."""
    data = _mapping(value, key)
    for name in required:
        if name not in data:
            raise _Damaged(f"`{key}` misses `{name}`")
        _text(data[name], f"{key}.{name}")
    known = {f.name for f in fields(cls)}
    return cls(**{k: v for k, v in data.items() if k in known})


@dataclass(frozen=True)
class DatasetEntry:
    """One searched dataset: enough to reload the same split (``source`` a name, path or URL)."""

    name: str
    source: str | None = None
    target: str | None = None
    task: str | None = None
    fingerprint: str | None = None
    persistence: str | None = None
    split: str = "random"
    #: Where the validation and test rows came from: a file the user gave (with the SHA-256 of its bytes,
    #: checked whenever the run reloads it), else that share of ``source``'s rows, cut with the run's seed.
    validation_file: str | None = None
    validation_sha256: str | None = None
    test_file: str | None = None
    test_sha256: str | None = None
    val_fraction: float = 0.2
    test_fraction: float = 0.2


def split_files(*, validation: Any = None, test: Any = None) -> dict[str, Any]:
    """A :class:`DatasetEntry`'s record of the split files the user gave (paths among ``validation`` and
    ``test``; other values are rows in memory): each file's absolute path and SHA-256."""
    recorded: dict[str, Any] = {}
    for what, value in (("validation", validation), ("test", test)):
        if isinstance(value, str | os.PathLike):
            path = Path(value).resolve()
            recorded[f"{what}_file"] = str(path)
            recorded[f"{what}_sha256"] = file_sha256(path)
    return recorded


def file_sha256(path: str | Path) -> str:
    """The SHA-256 of a file's bytes (hex), how a run recognises the split files it was given."""
    import hashlib

    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass(frozen=True)
class SpaceEntry:
    """One searched space: ``definition`` is its full YAML-format dict, so no file is needed to rebuild it.

    ``definition`` is None only for a run written before the manifest whose space file is gone or changed.
    """

    name: str
    hash: str
    source: str | None = None
    definition: dict[str, Any] | None = None

    @classmethod
    def of(cls, space: SearchSpace) -> SpaceEntry:
        return cls(name=space.name, hash=space.content_hash, source=space.source, definition=space.to_dict())

    def space(self) -> SearchSpace:
        """The space as searched.

        Raises:
            UserError: an old run whose space file is gone or no longer the searched space.
        """
        from automl.space import load_space, space_from_dict

        if self.definition is not None:
            return space_from_dict(self.definition, source=self.source or f"space {self.name!r} of the run")
        try:
            space = load_space(self.source or self.name)
        except UserError:
            space = None
        if space is None or space.content_hash != self.hash:
            raise UserError(
                f"space {self.name!r} of this run is not recorded in it (an older automl wrote the run) and "
                f"its file {self.source or self.name} is gone or changed (hash {self.hash}); restore the file"
            )
        return space


@dataclass(frozen=True)
class BackendEntry:
    name: str
    algorithm: str
    pruner: str = "none"
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class BudgetEntry:
    """The budget as given: ``per`` dataset or shared in ``total``; ``trials_per_study`` as resolved."""

    trials: int | None = None
    timeout: float | None = None
    per: str = "dataset"
    trial_timeout: float | None = None
    max_consecutive_failures: int = 5
    trials_per_study: dict[str, int | None] = field(default_factory=dict)


@dataclass(frozen=True)
class RetrainEntry:
    """The retraining policy an experiment runs after its searches."""

    top_k: int | None = None
    seeds: int = 1
    epochs: str | int = "best"
    final_fit: bool = False
    ensemble: bool | str = "auto"
    bag: bool | str = "auto"


@dataclass(frozen=True)
class Environment:
    """Where the run was last written: package versions, Python, hardware."""

    versions: dict[str, str] = field(default_factory=dict)
    python: str | None = None
    hardware: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def current(cls) -> Environment:
        return cls(**environment_info())


@dataclass(frozen=True)
class RunManifest:
    """What a run (``kind`` search or experiment) searched and how; see :data:`MANIFEST_VERSION`.

    ``storage`` is ``"sqlite"`` for the run's own SQLite file, else the storage URL with its password
    masked (``AUTOML_STORAGE`` supplies the real one, see :func:`automl.store.open_storage`). ``source``
    is the experiment file an experiment was read from.
    """

    kind: str
    name: str
    datasets: tuple[DatasetEntry, ...]
    spaces: tuple[SpaceEntry, ...]
    backend: BackendEntry
    studies: tuple[str, ...]
    metric: str | None = None
    budget: BudgetEntry = field(default_factory=BudgetEntry)
    devices: dict[str, Any] = field(default_factory=dict)
    storage: str = "sqlite"
    seed: int = 0
    retrain: RetrainEntry | None = None
    source: str | None = None
    environment: Environment = field(default_factory=Environment)
    #: the warm start asked for: ``auto``, ``portfolio``, ``none`` or an earlier run's directory; what
    #: each study got is in its ``automl.warm_start`` attribute. Runs from before warm starts read ``none``.
    warm_start: str = "none"

    def storage_url(self, run_dir: str | Path) -> str:
        """The URL of the run's storage (its own SQLite file in ``run_dir`` unless another was used)."""
        return storage_url_for(Path(run_dir), self.storage)

    def dataset(self, name: str) -> DatasetEntry:
        for entry in self.datasets:
            if entry.name == name:
                return entry
        searched = ", ".join(d.name for d in self.datasets) or "none"
        raise UserError(f"the run has no dataset {name!r}; it searched: {searched}")

    def to_dict(self) -> dict[str, Any]:
        """The JSON- and YAML-safe form written to ``run.yaml`` and the storage."""

        def plain(entry: Any) -> dict[str, Any]:
            return {f.name: getattr(entry, f.name) for f in fields(entry)}

        return _json_safe(
            {
                "manifest_version": MANIFEST_VERSION,
                "kind": self.kind,
                "name": self.name,
                "source": self.source,
                "datasets": [plain(d) for d in self.datasets],
                "spaces": [plain(s) for s in self.spaces],
                "backend": plain(self.backend),
                "metric": self.metric,
                "budget": plain(self.budget),
                "devices": dict(self.devices),
                "storage": self.storage,
                "seed": self.seed,
                "retrain": None if self.retrain is None else plain(self.retrain),
                "studies": list(self.studies),
                "environment": plain(self.environment),
                "warm_start": self.warm_start,
            }
        )

    @classmethod
    def from_dict(cls, data: Any, *, where: str = "run manifest") -> RunManifest:
        """The manifest of ``data`` (as :meth:`to_dict` wrote it); ``where`` names its origin in errors.

        Raises:
            UserError: one line naming ``where``: a version this automl does not read, or a damaged record.
        """
        if isinstance(data, Mapping) and "manifest_version" in data:
            _check_version(data["manifest_version"], where)
        try:
            return cls._parse(data)
        except _Damaged as exc:
            raise UserError(
                f"{where}: damaged run manifest ({exc}); restore it, or start the run afresh with `overwrite`"
            ) from None

    @classmethod
    def _parse(cls, value: Any) -> RunManifest:
        data = _mapping(value, None)
        for key in ("manifest_version", "kind", "name", "datasets", "spaces", "backend", "studies"):
            if key not in data:
                raise _Damaged(f"missing `{key}`")
        if data["kind"] not in KINDS:
            raise _Damaged(f"`kind` is {data['kind']!r}, not one of {', '.join(KINDS)}")

        def listed(key: str) -> list[Any]:
            items = data[key]
            if not isinstance(items, list):
                raise _Damaged(f"`{key}` must be a list, not {type(items).__name__}")
            return items

        datasets = tuple(
            _entry(DatasetEntry, d, f"datasets.{i}", ("name",)) for i, d in enumerate(listed("datasets"))
        )
        spaces = tuple(
            _entry(SpaceEntry, s, f"spaces.{i}", ("name", "hash")) for i, s in enumerate(listed("spaces"))
        )
        for i, space in enumerate(spaces):
            if space.definition is not None:
                _mapping(space.definition, f"spaces.{i}.definition")
        studies = tuple(_text(s, f"studies.{i}") for i, s in enumerate(listed("studies")))
        retrain = data.get("retrain")
        seed = data.get("seed", 0)
        if not isinstance(seed, int) or isinstance(seed, bool):
            raise _Damaged(f"`seed` must be an integer, not {seed!r}")
        return cls(
            kind=data["kind"],
            name=_text(data["name"], "name"),
            datasets=datasets,
            spaces=spaces,
            backend=_entry(BackendEntry, data["backend"], "backend", ("name", "algorithm")),
            studies=studies,
            metric=_text(data.get("metric"), "metric", optional=True),
            budget=_entry(BudgetEntry, data.get("budget") or {}, "budget", ()),
            devices=_mapping(data.get("devices") or {}, "devices"),
            storage=_text(data.get("storage") or "sqlite", "storage"),
            seed=seed,
            retrain=None if not retrain else _entry(RetrainEntry, retrain, "retrain", ()),
            source=_text(data.get("source"), "source", optional=True),
            environment=_entry(Environment, data.get("environment") or {}, "environment", ()),
            warm_start=_text(data.get("warm_start") or "none", "warm_start"),
        )


def _check_version(version: Any, where: str) -> None:
    if version != MANIFEST_VERSION:
        raise UserError(
            f"{where}: run manifest version {version!r} is not one this automl reads (version "
            f"{MANIFEST_VERSION}); upgrade automl to open this run"
        )


# ---------------------------------------------------------------------------------------- old runs
def _legacy_definition(entry: Any) -> dict[str, Any] | None:
    """An old run recorded where its space came from, not the space: reload it if it is still the same."""
    from automl.space import load_space

    if not isinstance(entry, Mapping) or not isinstance(entry.get("source"), str):
        return None
    try:
        space = load_space(entry["source"])
    except UserError:
        return None
    return space.to_dict() if space.content_hash == entry.get("hash") else None


def _from_legacy(data: Any, where: str) -> RunManifest:
    """The manifest of an ``experiment.yaml`` written before the manifest (top-level ``version: 1``)."""
    if not isinstance(data, Mapping):
        return RunManifest.from_dict(data, where=where)
    _check_version(data.get("version", MANIFEST_VERSION), where)
    environment = ("versions", "python", "hardware")
    spaces = data.get("spaces")
    if isinstance(spaces, list):
        spaces = [{**s, "definition": _legacy_definition(s)} if isinstance(s, Mapping) else s for s in spaces]
    upgraded = {k: v for k, v in data.items() if k not in ("version", "spaces", *environment)}
    upgraded.update(
        manifest_version=MANIFEST_VERSION,
        environment={k: data[k] for k in environment if k in data},
        # an old experiment wrote `retrain: false` for no retraining
        retrain=data.get("retrain") or None,
    )
    if spaces is not None:
        upgraded["spaces"] = spaces
    return RunManifest.from_dict(upgraded, where=where)


def is_legacy_run_file(path: Path) -> bool:
    """Whether ``path`` is an ``experiment.yaml`` that automl wrote into a run (a user's has no ``kind``)."""
    if not path.is_file():
        return False
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return False
    return isinstance(data, Mapping) and data.get("kind") in KINDS


# ---------------------------------------------------------------------------------------- files
def _read_yaml(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UserError(
            f"{path}: cannot read the run manifest ({first}); the run directory is damaged"
        ) from None


def read_manifest(run_dir: str | Path | RunDir) -> RunManifest:
    """The manifest of a run directory: its ``run.yaml``, or the ``experiment.yaml`` of an older run.

    Raises:
        UserError: not a run directory, a damaged manifest or one written by a newer automl (one line
            naming the file).
    """
    run = RunDir.open(run_dir.path if isinstance(run_dir, RunDir) else run_dir)
    if run.manifest_file.exists():
        return RunManifest.from_dict(_read_yaml(run.manifest_file), where=str(run.manifest_file))
    return _from_legacy(_read_yaml(run.legacy_file), str(run.legacy_file))


class OpenRun(NamedTuple):
    run: RunDir
    manifest: RunManifest
    storage: optuna.storages.BaseStorage


def open_run(run_dir: str | Path | RunDir) -> OpenRun:
    """A run to read: its directory, manifest and storage (opened without heartbeats: no trial runs here).

    Raises:
        UserError: not a run directory, a damaged or newer manifest, or a storage that cannot be opened.
    """
    run = RunDir.open(run_dir.path if isinstance(run_dir, RunDir) else run_dir)
    manifest = read_manifest(run)
    return OpenRun(run, manifest, open_storage(manifest.storage_url(run.path), heartbeat_interval=None))


def _storage_label(storage: Any) -> str:
    url = storage if isinstance(storage, str) else getattr(storage, "url", None)
    return f"storage {mask_password(str(url))!r}" if url else "the storage"


def write_manifest(
    run_dir: str | Path | RunDir, storage: optuna.storages.BaseStorage | str, manifest: RunManifest
) -> Path:
    """Record ``manifest`` on every study it lists in ``storage``, then as the run's ``run.yaml``.

    Returns the path of ``run.yaml``. The file is replaced atomically, so a reader never sees half of it.

    Raises:
        UserError: a study the manifest lists is not in the storage.
    """
    run = run_dir if isinstance(run_dir, RunDir) else RunDir(Path(run_dir))
    data = manifest.to_dict()
    if manifest.studies:
        opened = open_storage(storage, heartbeat_interval=None) if isinstance(storage, str) else storage
        for name in manifest.studies:
            try:
                study_id = opened.get_study_id_from_name(name)
            except KeyError:
                raise UserError(
                    f"no study named {name!r} in {_storage_label(storage)}; the manifest of run "
                    f"{manifest.name!r} lists it, so create the study before writing the manifest"
                ) from None
            opened.set_study_user_attr(study_id, MANIFEST_ATTR, data)
    path = run.manifest_file
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(_HEADER + yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    tmp.replace(path)
    return path


def manifest_from_storage(
    storage: optuna.storages.BaseStorage | str, study_name: str | None = None
) -> RunManifest:
    """The manifest of a run read from its storage alone (a URL, or an opened storage).

    With ``study_name``, the manifest of that study's run; without, the storage must hold one run's.

    Raises:
        UserError: one line: no such study, no manifest (a run of an older automl, or not automl's),
            several runs in the storage without ``study_name``, or a damaged or newer manifest.
    """
    import optuna

    label = _storage_label(storage)
    # Opening a missing SQLite file would create an empty storage instead of saying it is missing.
    sqlite_file = (
        storage[len("sqlite:///") :]
        if isinstance(storage, str) and storage.startswith("sqlite:///")
        else None
    )
    if sqlite_file is not None and not Path(sqlite_file).is_file():
        raise UserError(f"{label} does not exist: no such SQLite file; check the path")
    opened = open_storage(storage, heartbeat_interval=None) if isinstance(storage, str) else storage
    summaries = optuna.get_all_study_summaries(opened, include_best_trial=False)
    if study_name is not None:
        found = [s for s in summaries if s.study_name == study_name]
        if not found:
            names = ", ".join(s.study_name for s in summaries[:5]) or "none"
            raise UserError(
                f"no study named {study_name!r} in {label} (it holds: {names}); check `study_name`"
            )
        if MANIFEST_ATTR not in found[0].user_attrs:
            raise UserError(
                f"study {study_name!r} in {label} holds no run manifest: an older automl (or not automl) "
                "wrote it; open its run directory instead"
            )
        return RunManifest.from_dict(
            found[0].user_attrs[MANIFEST_ATTR], where=f"study {study_name!r} in {label}"
        )

    carried = {s.study_name: s.user_attrs[MANIFEST_ATTR] for s in summaries if MANIFEST_ATTR in s.user_attrs}
    runs: dict[str, list[str]] = {}
    for name, data in carried.items():
        run_name = data.get("name") if isinstance(data, Mapping) else None
        runs.setdefault(str(run_name), []).append(name)
    if not runs:
        raise UserError(
            f"{label} holds no automl run manifest: its runs were written by an older automl (open the "
            "run directory instead), or not by automl"
        )
    if len(runs) > 1:
        examples = "; ".join(f"{run}: {names[0]!r}" for run, names in sorted(runs.items()))
        raise UserError(
            f"{label} holds the manifests of {len(runs)} runs ({examples}); give `study_name` to choose one"
        )
    studies = next(iter(runs.values()))
    # A resume rewrites the manifest on every study it lists; an older copy stays only on a study the
    # newer manifest no longer lists, so the copy every one of its own studies carries is the current one.
    chosen = studies[0]
    for name in studies:
        data = carried[name]
        listed = data.get("studies") if isinstance(data, Mapping) else None
        text = json.dumps(data, sort_keys=True)
        if isinstance(listed, list) and all(
            json.dumps(carried.get(s), sort_keys=True) == text for s in listed if isinstance(s, str)
        ):
            chosen = name
            break
    return RunManifest.from_dict(carried[chosen], where=f"study {chosen!r} in {label}")
