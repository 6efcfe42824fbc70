#!/usr/bin/env bash
# Wheels for running automl on a GPU machine that has JAX (or PyTorch), NumPy, pandas, scikit-learn,
# rich, typer, PyYAML and Jinja2 but no TensorFlow and no package index: automl itself and the pure
# requirements such images lack, at the versions installed here. Copy DIR there, then:
#
#   pip install --no-index --no-deps DIR/*.whl        (or --target SITE and PYTHONPATH=SITE)
#   python benchmarks/gpu.py --keras-backend jax
#
# Usage: scripts/offline_wheels.sh DIR [PYTHON_VERSION, default 3.12]
set -euo pipefail
dir=${1:?give the folder to fill}
python_version=${2:-3.12}
cd "$(dirname "$0")/.."
mkdir -p "$dir"
packages=(keras keras-tuner kt-legacy optuna cmaes SQLAlchemy alembic Mako colorlog namex optree six)
pinned=$(python - "${packages[@]}" <<'PY'
import sys
from importlib.metadata import version
print(" ".join(f"{name}=={version(name)}" for name in sys.argv[1:]))
PY
)
platforms=()
for tag in manylinux_2_28 manylinux_2_27 manylinux_2_24 manylinux_2_17 manylinux2014 manylinux1; do
    platforms+=(--platform "${tag}_x86_64")
done
# shellcheck disable=SC2086
python -m pip download -q --no-deps --only-binary=:all: --python-version "$python_version" \
    --implementation cp "${platforms[@]}" -d "$dir" $pinned
python -m pip wheel -q --no-deps -w "$dir" .
du -sh "$dir"
