#!/usr/bin/env bash
# One automl search spread over a Slurm job array, one GPU per array task.
#
# Task 0 runs `automl search`: it creates the study in PostgreSQL, records the run's manifest and
# deadline there, and trains on its own GPU. Every other task waits until that study exists and joins it
# with `automl worker`, which reads the space, dataset, backend and budget from the storage. All stop
# together once the study holds --trials finished trials or the --timeout passes.
#
#   export AUTOML_STORAGE_URL=postgresql+psycopg2://automl@db-host:5432/automl   # no password here
#   export PGPASSWORD=...              # psycopg2 (libpq) reads it; or a line in ~/.pgpass
#   sbatch --export=ALL examples/cluster/slurm_array.sh
#
# Settings (environment, with their defaults): AUTOML_RUN=cluster-digits, AUTOML_DATASET=digits,
# AUTOML_SPACE=compact, AUTOML_ALGORITHM=tpe, AUTOML_TRIALS=200, AUTOML_TIMEOUT=1h,
# AUTOML_DEVICES="--gpus all", AUTOML_SEARCH_ARGS (more flags for the search), AUTOML_WAIT=1800 and
# AUTOML_POLL=10 (how long and how often a worker waits for the study), AUTOML_LOG_DIR=automl-worker-logs.
# The dataset must load on every node: a built-in, a URL, or a path on shared storage.
# The study is named RUN/DATASET/SPACE/optuna-ALGORITHM (`automl worker --storage URL` lists them); a
# space given as a YAML path must be named after its file (`name: small` in small.yaml), or set
# AUTOML_STUDY. run_local.sh runs this very script as two "tasks" on one machine.
#
#SBATCH --job-name=automl
#SBATCH --array=0-3
#SBATCH --ntasks=1
#SBATCH --cpus-per-task=8
#SBATCH --gres=gpu:1
#SBATCH --time=02:00:00
#SBATCH --output=automl-%A_%a.out
# SIGTERM to automl 120 s before the time limit: it stops its workers within AUTOML_STOP_GRACE (30 s)
# and keeps every finished trial; `automl search ... --resume` (or a new array) continues.
#SBATCH --signal=B:TERM@120

set -euo pipefail

: "${AUTOML_STORAGE_URL:?set AUTOML_STORAGE_URL to the PostgreSQL URL; the password goes in PGPASSWORD}"
run=${AUTOML_RUN:-cluster-digits}
dataset=${AUTOML_DATASET:-digits}
space=${AUTOML_SPACE:-compact}
algorithm=${AUTOML_ALGORITHM:-tpe}
study=${AUTOML_STUDY:-$run/$dataset/$(basename "$space" .yaml)/optuna-$algorithm}
task=${SLURM_ARRAY_TASK_ID:-0}
read -r -a devices <<<"${AUTOML_DEVICES:---gpus all}"
read -r -a extra <<<"${AUTOML_SEARCH_ARGS:-}"

if [ "$task" -eq 0 ]; then
    echo "task 0: searching study $study"
    exec automl search --storage "$AUTOML_STORAGE_URL" --name "$run" -d "$dataset" -s "$space" \
        --algorithm "$algorithm" --trials "${AUTOML_TRIALS:-200}" --timeout "${AUTOML_TIMEOUT:-1h}" \
        "${devices[@]}" ${extra[@]+"${extra[@]}"}
fi

# Other tasks: wait for task 0 to create the study (the listing fails while the server is unreachable,
# and shows no study until the search has written it), then join it.
study_listed() {
    local listing
    listing=$(automl worker --storage "$AUTOML_STORAGE_URL" --json 2>/dev/null) || return 1
    grep -qF "\"study\": \"$study\"" <<<"$listing"
}
until study_listed; do
    if [ "$SECONDS" -ge "${AUTOML_WAIT:-1800}" ]; then
        echo "task $task: no study $study in the storage after ${SECONDS}s; did task 0 start?" >&2
        exit 1
    fi
    sleep "${AUTOML_POLL:-10}"
done
echo "task $task: joining study $study"
exec automl worker --storage "$AUTOML_STORAGE_URL" --study "$study" "${devices[@]}" \
    --log-dir "${AUTOML_LOG_DIR:-automl-worker-logs}/task$task"
