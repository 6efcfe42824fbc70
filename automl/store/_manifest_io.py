"""Reading and writing the run manifest: ``run.yaml`` in the run directory and the storage's studies.

The manifest lives with the trials, as the study user attribute ``automl.manifest`` on every study of the
run, so that the storage alone (a shared server, a copied SQLite file) tells another process how to read,
continue or retrain the run, search space included. A copy goes to ``run.yaml`` in the run directory for
people and for readers that have the folder; it is not called ``experiment.yaml`` so that it cannot be
taken for (or overwrite) a user's experiment file. This module is the only one that writes or reads a
manifest (the record is :mod:`._schema`, an older run's file :mod:`._legacy`). No TensorFlow here.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import yaml

from automl.exceptions import Argument, UserError
from automl.store._legacy import from_legacy
from automl.store._run_dir import RunDir
from automl.store._schema import MANIFEST_ATTR, RunManifest
from automl.store._storage import mask_password, open_storage

if TYPE_CHECKING:
    import optuna

    from automl.space import SearchSpace
    from automl.store._records import StudyInfo

__all__ = ["OpenRun", "manifest_from_storage", "open_run", "read_manifest", "study_space", "write_manifest"]

_HEADER = "# The manifest of this automl run, also kept in its storage; automl rewrites it on resume.\n"


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
    return from_legacy(_read_yaml(run.legacy_file), str(run.legacy_file))


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
    with run.writing():
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
                "no study named {study!r} in {label} (it holds: {names}); check {study_name}",
                study=study_name,
                label=label,
                names=names,
                study_name=Argument("study_name"),
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
            "{label} holds the manifests of {count} runs ({examples}); give {study_name} to choose one",
            label=label,
            count=len(runs),
            examples=examples,
            study_name=Argument("study_name"),
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


def study_space(manifest: RunManifest, info: StudyInfo) -> SearchSpace | None:
    """The space a study searched, from the run's manifest; None when the manifest cannot rebuild it (an
    old run whose space file is gone or changed)."""
    from automl.exceptions import AutoMLError

    entries = [s for s in manifest.spaces if s.name == info.space]
    entries.sort(key=lambda s: s.hash != info.space_hash)  # the entry of the searched hash first
    for entry in entries:
        try:
            return entry.space()
        except AutoMLError:
            continue
    return None
