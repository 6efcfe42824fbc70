#!/usr/bin/env bash
# The cluster examples, simulated on one machine: slurm_array.sh runs as array task 0 (`automl search`)
# and task 1 (`automl worker`) at once, each in its own folder as if on its own node, on CPU workers.
#
#   examples/cluster/run_local.sh STORAGE_URL [FOLDER]
#   examples/cluster/run_local.sh sqlite:////tmp/automl-cluster.db
#   PGPASSWORD=... examples/cluster/run_local.sh postgresql+psycopg2://automl@localhost:5432/automl
#
# FOLDER (default: a new temporary folder) gets task0/ (the run directory runs/$AUTOML_RUN) and task1/
# (the worker's logs). Every AUTOML_* setting of slurm_array.sh applies; this script only changes the
# defaults to a small CPU search: AUTOML_DEVICES="--workers 1", AUTOML_TRIALS=8, AUTOML_TIMEOUT=10m,
# AUTOML_SPACE=tiny, AUTOML_RUN=cluster-local, AUTOML_POLL=1, AUTOML_WAIT=300.
# Exits non-zero if either task fails.

set -euo pipefail

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
    echo "usage: $0 STORAGE_URL [FOLDER]" >&2
    exit 2
fi
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
folder=${2:-$(mktemp -d "${TMPDIR:-/tmp}/automl-cluster.XXXXXX")}
mkdir -p "$folder/task0" "$folder/task1"

export AUTOML_STORAGE_URL=$1
export AUTOML_DEVICES=${AUTOML_DEVICES:---workers 1}
export AUTOML_TRIALS=${AUTOML_TRIALS:-8}
export AUTOML_TIMEOUT=${AUTOML_TIMEOUT:-10m}
export AUTOML_SPACE=${AUTOML_SPACE:-tiny}
export AUTOML_RUN=${AUTOML_RUN:-cluster-local}
export AUTOML_POLL=${AUTOML_POLL:-1}
export AUTOML_WAIT=${AUTOML_WAIT:-300}

(cd "$folder/task0" && SLURM_ARRAY_TASK_ID=0 exec bash "$here/slurm_array.sh") >"$folder/task0.out" 2>&1 &
chief=$!
(cd "$folder/task1" && SLURM_ARRAY_TASK_ID=1 exec bash "$here/slurm_array.sh") >"$folder/task1.out" 2>&1 &
worker=$!

status=0
if ! wait "$chief"; then
    status=1
    echo "task 0 (automl search) failed: $folder/task0.out" >&2
    kill "$worker" 2>/dev/null || true  # it would wait for a study that may never come
fi
wait "$worker" || { status=1; echo "task 1 (automl worker) failed: $folder/task1.out" >&2; }
if [ "$status" -eq 0 ]; then
    tail -n 20 "$folder/task0.out"
    tail -n 2 "$folder/task1.out"
    echo "both tasks done; outputs in $folder"
fi
exit "$status"
