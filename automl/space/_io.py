"""Search spaces in their YAML form: reading (with file:line errors), writing, and the shipped spaces."""

from __future__ import annotations

from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from automl._yaml import YamlDocument, read_yaml
from automl.exceptions import SpaceError, UserError, did_you_mean
from automl.space._params import Bool, Choice, Fixed, Float, Int, Parameter
from automl.space._space import SearchSpace

__all__ = [
    "DEFAULT_SPACE",
    "dump_space",
    "list_spaces",
    "load_space",
    "shipped_spaces_dir",
    "space_from_dict",
]

#: The space searched when none is named: ``compact`` converges within a short budget and scored level
#: with or above ``mlp`` at equal time (benchmarks/results/lever_space.md); ``mlp`` spans every knob over
#: wide ranges, for long searches.
DEFAULT_SPACE = "compact"

SUPPORTED_VERSIONS = (1,)
_TOP_KEYS = (
    "version",
    "name",
    "family",
    "objective",
    "max_params",
    "max_latency_ms",
    "description",
    "parameters",
)
_TYPES: dict[str, type[Parameter]] = {
    "int": Int,
    "float": Float,
    "choice": Choice,
    "bool": Bool,
    "fixed": Fixed,
}
_COMMON = ("type", "active_if", "per_layer")
_KEYS = {
    "int": (*_COMMON, "low", "high", "step", "log", "default"),
    "float": (*_COMMON, "low", "high", "step", "log", "default"),
    "choice": (*_COMMON, "values", "default"),
    "bool": (*_COMMON, "default"),
    "fixed": ("type", "active_if", "value"),
}
_REQUIRED = {"int": ("low", "high"), "float": ("low", "high"), "choice": ("values",), "fixed": ("value",)}


def shipped_spaces_dir() -> Path:
    """The folder of the spaces shipped with automl (package data, or the source checkout's folder)."""
    packaged = Path(str(resources.files("automl"))) / "search_spaces"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "search_spaces"


def list_spaces() -> dict[str, Path]:
    """Shipped space name -> file."""
    folder = shipped_spaces_dir()
    return {p.stem: p for p in sorted(folder.glob("*.yaml"))} if folder.is_dir() else {}


def load_space(name_or_path: str | Path | SearchSpace) -> SearchSpace:
    """A search space by shipped name (``mlp``, ``cnn``, ``tiny``…) or by path to a YAML file.

    Raises:
        SpaceError: unknown name (lists the shipped ones), missing file, malformed YAML or an invalid space;
            the message names the file, the line and key path, and the fix.
    """
    if isinstance(name_or_path, SearchSpace):
        return name_or_path
    text = str(name_or_path)
    path = Path(text)
    looks_like_path = path.suffix in (".yaml", ".yml", ".json") or "/" in text or path.exists()
    if not looks_like_path:
        shipped = list_spaces()
        if text not in shipped:
            raise SpaceError(
                f"unknown search space {text!r}{did_you_mean(text, shipped)}; "
                f"use one of: {', '.join(shipped)} or a path to a YAML file"
            )
        path = shipped[text]
    if not path.exists():
        raise SpaceError(f"{text}: search space file not found; check the path or use a shipped space")
    try:
        doc = read_yaml(path)
    except UserError as exc:
        raise SpaceError(str(exc)) from None
    return space_from_dict(doc.data, source=str(path), doc=doc, default_name=path.stem)


def _parameter(name: str, raw: Any, doc: YamlDocument | None, source: str) -> Parameter:
    where = doc.where(("parameters", name)) if doc else source
    key_path = f"parameters.{name}"
    if not isinstance(raw, Mapping):
        # Shorthands: `epochs: 100` is a fixed value, `activation: [relu, tanh]` a choice.
        if isinstance(raw, list):
            raw = {"type": "choice", "values": raw}
        elif isinstance(raw, bool | int | float | str):
            raw = {"type": "fixed", "value": raw}
        else:
            raise SpaceError(f"{where}: {key_path}: expected a mapping like {{type: int, low: 1, high: 4}}")
    kind = raw.get("type")
    if kind not in _TYPES:
        hint = did_you_mean(str(kind), _TYPES) if kind else ""
        raise SpaceError(
            f"{where}: {key_path}.type: {'missing' if kind is None else f'unknown type {kind!r}'}{hint}; "
            f"use one of: {', '.join(_TYPES)}"
        )
    for key in raw:
        if key not in _KEYS[kind]:
            at = doc.where(("parameters", name, key)) if doc else source
            raise SpaceError(
                f"{at}: {key_path}: unknown key {key!r}{did_you_mean(str(key), _KEYS[kind])}; "
                f"a {kind} takes: {', '.join(_KEYS[kind])}"
            )
    for key in _REQUIRED.get(kind, ()):
        if key not in raw:
            article = "an" if kind == "int" else "a"
            raise SpaceError(f"{where}: {key_path}: {article} {kind} needs `{key}`; add it")
    active_if = raw.get("active_if") or {}
    if not isinstance(active_if, Mapping):
        at = doc.where(("parameters", name, "active_if")) if doc else source
        raise SpaceError(f"{at}: {key_path}.active_if: expected a mapping like {{optimizer: [sgd, rmsprop]}}")
    kwargs = {k: v for k, v in raw.items() if k != "type"}
    kwargs["active_if"] = active_if
    if "log" in kwargs and not isinstance(kwargs["log"], bool):
        raise SpaceError(f"{where}: {key_path}.log: must be true or false, but got {kwargs['log']!r}")
    try:
        return _TYPES[kind](name, **kwargs)
    except SpaceError as exc:
        raise SpaceError(f"{where}: parameters.{exc}") from None
    except TypeError as exc:
        raise SpaceError(f"{where}: {key_path}: {exc}") from None


def space_from_dict(
    data: Any,
    *,
    source: str | None = None,
    doc: YamlDocument | None = None,
    default_name: str | None = None,
) -> SearchSpace:
    """Build a :class:`SearchSpace` from its YAML-format dict, with errors located in ``doc`` when given."""
    source = source or "<search space>"

    def at(*path: str | int) -> str:
        return doc.where(path) if doc else source

    if not isinstance(data, Mapping):
        raise SpaceError(
            f"{source}: a search space must be a mapping with `parameters:`; see search_spaces/mlp.yaml"
        )
    for key in data:
        if key not in _TOP_KEYS:
            raise SpaceError(
                f"{at(key)}: unknown key {key!r}{did_you_mean(str(key), _TOP_KEYS)}; "
                f"allowed: {', '.join(_TOP_KEYS)}"
            )
    version = data.get("version", 1)
    if version not in SUPPORTED_VERSIONS:
        raise SpaceError(
            f"{at('version')}: version: {version!r} is not supported by this automl (reads version 1); "
            "upgrade automl or write version: 1"
        )
    params = data.get("parameters")
    if not isinstance(params, Mapping) or not params:
        raise SpaceError(f"{at('parameters')}: parameters: expected a non-empty mapping of name -> parameter")
    name = data.get("name") or default_name or "space"
    declared = [_parameter(str(n), raw, doc, source) for n, raw in params.items()]
    try:
        return SearchSpace(
            name=str(name),
            family=str(data.get("family", "mlp")),
            parameters=declared,
            objective=str(data.get("objective", "auto")),
            max_params=data.get("max_params"),
            max_latency_ms=data.get("max_latency_ms"),
            description=str(data.get("description", "") or ""),
            source=source,
        )
    except SpaceError as exc:
        text = str(exc)
        # Point at the line of the parameter the message names, when the YAML tells us.
        if doc is not None and text.startswith(f"{source}: parameters."):
            pname = text[len(f"{source}: parameters.") :].split(".")[0].split(":")[0]
            base = pname if pname in params else pname.rsplit("_", 1)[0]
            text = f"{doc.where(('parameters', base))}: {text[len(source) + 2 :]}"
        elif doc is not None:
            for key in ("family", "objective", "max_params", "max_latency_ms"):
                if text.startswith(f"{source}: {key}"):
                    text = f"{doc.where((key,))}: {text[len(source) + 2 :]}"
        raise SpaceError(text) from None


def dump_space(space: SearchSpace) -> str:
    """YAML text of ``space``: header keys, then one flow-style line per parameter."""
    data = space.to_dict()
    params = data.pop("parameters")
    lines = [yaml.safe_dump(data, sort_keys=False).rstrip(), "parameters:"]
    for name, spec in params.items():
        flow = yaml.safe_dump(spec, default_flow_style=True, sort_keys=False, width=10_000).strip()
        lines.append(f"  {name}: {flow}")
    return "\n".join(lines) + "\n"
