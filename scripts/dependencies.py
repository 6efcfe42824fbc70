"""Print automl's dependencies from pyproject.toml, one per line, leaving out the ones named.

For an install without TensorFlow (a machine with JAX or PyTorch only)::

    pip install --no-deps -e .
    pip install $(python scripts/dependencies.py --without tensorflow tensorboard --extra jax)

Usage: python scripts/dependencies.py [--without NAME ...] [--extra NAME ...]
"""

from __future__ import annotations

import argparse
import re
import sys
import tomllib
from pathlib import Path

PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"


def _name(requirement: str) -> str:
    return re.split(r"[\s\[<>=!~;]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def dependencies(without: list[str], extras: list[str]) -> list[str]:
    project = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]
    wanted = list(project["dependencies"])
    for extra in extras:
        wanted += project["optional-dependencies"][extra]
    dropped = {name.lower().replace("_", "-") for name in without}
    return [r for r in wanted if _name(r) not in dropped]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--without", nargs="*", default=[], help="package names to leave out")
    parser.add_argument("--extra", nargs="*", default=[], help="extras whose packages to add")
    args = parser.parse_args(argv)
    print("\n".join(dependencies(args.without, args.extra)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
