#!/usr/bin/env bash
# The Keras-backend tier: automl installed WITHOUT TensorFlow, on JAX's CPU wheels from the registry, and
# the training, search (both search backends, pruning, workers), retrain and predict tests run on it.
# PyTorch is left out: the registry's default wheel pulls about 3 GB of CUDA libraries (README "Keras
# backends"). Run by .ci/run after the main suite; usable alone from the repository root.
set -euo pipefail
cd "$(dirname "$0")/.."

python3 -m venv .venv-jax
. .venv-jax/bin/activate
pip install -q --no-deps -e .
pip install -q $(python scripts/dependencies.py --without tensorflow tensorboard --extra jax) \
    pytest pytest-xdist psycopg2-binary
python -c "import importlib.util, sys; sys.exit(importlib.util.find_spec('tensorflow') is not None)" \
    || { echo "the backend tier must run without TensorFlow installed" >&2; exit 1; }
KERAS_BACKEND=jax python -m pytest -q -n auto --dist loadfile \
    tests/unit/test_keras_backend.py tests/unit/model tests/unit/training \
    tests/integration/test_search_optuna.py tests/integration/test_search_keras_tuner.py \
    tests/integration/test_workers.py tests/integration/test_retrain.py tests/integration/test_deploy.py
