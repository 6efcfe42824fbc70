"""YAML reading that remembers where each key came from, so errors can say `file:line: key.path`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from automl.exceptions import UserError

__all__ = ["YamlDocument", "read_yaml"]

KeyPath = tuple[str | int, ...]


class YamlDocument:
    """Parsed YAML data plus the line of every mapping key and sequence item (1-based)."""

    def __init__(self, data: Any, lines: dict[KeyPath, int], source: str) -> None:
        self.data = data
        self.lines = lines
        self.source = source

    def where(self, path: KeyPath) -> str:
        """``file:line`` of the deepest known prefix of ``path``, or just the file."""
        for end in range(len(path), -1, -1):
            line = self.lines.get(tuple(path[:end]))
            if line is not None:
                return f"{self.source}:{line}"
        return self.source


def _index_lines(node: yaml.Node, path: KeyPath, lines: dict[KeyPath, int]) -> None:
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key_path = (*path, str(key_node.value))
            lines[key_path] = key_node.start_mark.line + 1
            _index_lines(value_node, key_path, lines)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            lines[(*path, i)] = item.start_mark.line + 1
            _index_lines(item, (*path, i), lines)


def read_yaml(
    path: str | Path | None = None, *, text: str | None = None, source: str | None = None
) -> YamlDocument:
    """Read a YAML file (or ``text``) into a :class:`YamlDocument`.

    Raises:
        UserError: the file is missing, unreadable or not valid YAML; the message gives file and line.
    """
    if text is None:
        if path is None:
            raise TypeError("read_yaml needs a path or text")
        p = Path(path)
        source = source or str(p)
        try:
            text = p.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise UserError(f"{source}: file not found; check the path") from None
        except OSError as exc:
            raise UserError(f"{source}: cannot read file ({exc.strerror}); check its permissions") from None
    source = source or "<string>"
    try:
        data = yaml.safe_load(text)
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise UserError(f"{source}{line}: malformed YAML ({problem}); fix the syntax at that line") from None
    lines: dict[KeyPath, int] = {}
    if root is not None:
        _index_lines(root, (), lines)
    return YamlDocument(data, lines, source)
