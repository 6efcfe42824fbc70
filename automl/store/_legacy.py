"""Runs written before the manifest: their ``experiment.yaml`` (top-level ``version: 1``), read as a manifest.

Such a run recorded where its spaces came from rather than the spaces, and its environment at the top
level; :func:`from_legacy` converts the file into a :class:`~automl.store.RunManifest` so that no other
module knows that format, and :func:`is_legacy_run_file` tells that file from a user's experiment file.
No TensorFlow here.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from automl.exceptions import UserError
from automl.store._schema import KINDS, MANIFEST_VERSION, RunManifest, check_version

__all__ = ["from_legacy", "is_legacy_run_file"]


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


def from_legacy(data: Any, where: str) -> RunManifest:
    """The manifest of an ``experiment.yaml`` written before the manifest (top-level ``version: 1``)."""
    if not isinstance(data, Mapping):
        return RunManifest.from_dict(data, where=where)
    check_version(data.get("version", MANIFEST_VERSION), where)
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
