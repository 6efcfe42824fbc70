"""The run manifest's schema: what a run searched and how, in one typed and versioned record.

:class:`RunManifest` and its entries (datasets, spaces, backend, budget, retrain policy, environment),
with the dict form written to ``run.yaml`` and the storage (:meth:`RunManifest.to_dict`) and its parsing
back, which turns a damaged or newer record into one :class:`UserError` line (:meth:`RunManifest.from_dict`).
Reading and writing it is :mod:`._manifest_io`; the format of runs older than the manifest, :mod:`._legacy`.
No TensorFlow here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from automl.exceptions import Argument, UserError
from automl.store._policy import RetrainPolicy
from automl.store._provenance import Environment
from automl.store._records import _json_safe
from automl.store._storage import storage_url_for

if TYPE_CHECKING:
    from automl.space import SearchSpace

__all__ = [
    "KINDS",
    "MANIFEST_ATTR",
    "MANIFEST_VERSION",
    "BackendEntry",
    "BudgetEntry",
    "DatasetEntry",
    "RunManifest",
    "SpaceEntry",
    "check_version",
]

MANIFEST_VERSION = 1
#: the study user attribute holding the manifest (a JSON object).
MANIFEST_ATTR = "automl.manifest"
KINDS = ("search", "experiment")

#: The manifest's retrain entry is the policy itself (the name the manifest's other entries share).


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
    try:
        return cls(**{k: v for k, v in data.items() if k in known})
    except UserError as exc:  # an entry that checks its values (the retrain policy)
        raise _Damaged(f"`{key}`: {exc}") from None


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
    """The budget of a run, as an experiment file or ``AutoMLSearch`` gave it, and as its manifest keeps it.

    ``trials`` and ``timeout`` go to each (dataset, space) search when ``per`` is ``"dataset"``, else are
    shared by all (``"total"``); ``trial_timeout`` ends one trial, ``max_consecutive_failures`` the search.
    ``trials_per_study`` is the trials each study was given once the run resolved them (empty before).
    ``stall_trials`` / ``stall_seconds`` (``stop_stalled``: N trials, or a duration) stop each search once
    its best score stopped improving by ``stall_tolerance`` (relative; None: the engine's default), see
    :mod:`automl.engine._stall`. Runs from before the rule read None: no such stop.
    """

    trials: int | None = None
    timeout: float | None = None
    per: str = "dataset"
    trial_timeout: float | None = None
    max_consecutive_failures: int = 5
    trials_per_study: dict[str, int | None] = field(default_factory=dict)
    stall_trials: int | None = None
    stall_seconds: float | None = None
    stall_tolerance: float | None = None


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
    retrain: RetrainPolicy | None = None
    source: str | None = None
    environment: Environment = field(default_factory=Environment)
    #: the warm start asked for: ``auto``, ``portfolio``, ``none`` or an earlier run's directory; what
    #: each study got is in its ``automl.warm_start`` attribute. Runs from before warm starts read ``none``.
    warm_start: str = "none"
    #: the folder of the trials' checkpoints the user chose (absolute); None: the default
    #: (``AUTOML_CHECKPOINT_DIR``, else ``checkpoints/`` in the run directory). A resume keeps it.
    checkpoint_dir: str | None = None
    #: the Keras backend every trial trains on (runs from before the choice read ``tensorflow``).
    keras_backend: str = "tensorflow"
    #: how the trials' prediction latencies were measured (``automl.training.latency_note``): in each
    #: trial's process, beside how many workers. Runs from before the measurement read None.
    latency_measured: str | None = None

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
                "checkpoint_dir": self.checkpoint_dir,
                "keras_backend": self.keras_backend,
                "latency_measured": self.latency_measured,
            }
        )

    @classmethod
    def from_dict(cls, data: Any, *, where: str = "run manifest") -> RunManifest:
        """The manifest of ``data`` (as :meth:`to_dict` wrote it); ``where`` names its origin in errors.

        Raises:
            UserError: one line naming ``where``: a version this automl does not read, or a damaged record.
        """
        if isinstance(data, Mapping) and "manifest_version" in data:
            check_version(data["manifest_version"], where)
        try:
            return cls._parse(data)
        except _Damaged as exc:
            raise UserError(
                "{where}: damaged run manifest ({problem}); restore it, or start the run afresh "
                "with {overwrite}",
                where=where,
                problem=exc,
                overwrite=Argument("overwrite"),
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
            retrain=None if not retrain else _entry(RetrainPolicy, retrain, "retrain", ()),
            source=_text(data.get("source"), "source", optional=True),
            environment=_entry(Environment, data.get("environment") or {}, "environment", ()),
            warm_start=_text(data.get("warm_start") or "none", "warm_start"),
            checkpoint_dir=_text(data.get("checkpoint_dir"), "checkpoint_dir", optional=True),
            keras_backend=_text(data.get("keras_backend") or "tensorflow", "keras_backend"),
            latency_measured=_text(data.get("latency_measured"), "latency_measured", optional=True),
        )


def check_version(version: Any, where: str) -> None:
    """Refuse a manifest of another version, in one line naming ``where``."""
    if version != MANIFEST_VERSION:
        raise UserError(
            f"{where}: run manifest version {version!r} is not one this automl reads (version "
            f"{MANIFEST_VERSION}); upgrade automl to open this run"
        )
