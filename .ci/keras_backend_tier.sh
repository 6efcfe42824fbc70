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
# A slice of the suite (about 2.5 minutes on 2 cores). Left to the main suite, as nothing in them depends
# on the Keras backend: a worker killed mid-trial, KerasTuner's other oracles, and the ensemble's deploy
# (its retrain path is the one test_cli_retrain_and_predict runs here).
KI=tests/integration
KERAS_BACKEND=jax python -m pytest -q -n auto --dist loadfile -p no:cacheprovider \
    tests/unit/test_keras_backend.py tests/unit/model/test_keras_setup.py \
    tests/unit/training/test_training_fit.py tests/unit/training/test_training_failures.py \
    tests/unit/training/test_pipeline.py tests/unit/training/test_checkpoint.py \
    tests/unit/training/test_footprint.py tests/unit/training/test_remeasure.py \
    $KI/test_search_optuna.py \
    "$KI/test_search_keras_tuner.py::test_every_algorithm_mirrors_its_trials_into_the_store[random]" \
    "$KI/test_search_keras_tuner.py::test_hyperband_continues_promoted_trials_and_deletes_obsolete_checkpoints" \
    "$KI/test_workers.py::test_two_workers_share_one_study_and_its_budget" \
    "$KI/test_retrain.py::test_cli_retrain_and_predict"
