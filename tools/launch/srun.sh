#!/usr/bin/env bash
# What slurm_train.sh and slurm_test.sh share: run a tool as one Slurm task
# per GPU, the repository on PYTHONPATH.
#
#   bash tools/launch/srun.sh PARTITION JOB_NAME TOOL.py [TOOL args...]
#
# Environment (defaults): GPUS (8, tasks in all), GPUS_PER_NODE (8),
# CPUS_PER_TASK (5), SRUN_ARGS ("", extra srun options, word-split),
# MASTER_PORT (random in 12000-31999), PYTHON (python).
set -euo pipefail

PARTITION=$1
JOB_NAME=$2
TOOL=$3
shift 3
REPO=$(cd "$(dirname "$0")/../.." && pwd)
GPUS_PER_NODE=${GPUS_PER_NODE:-8}

export MASTER_PORT=${MASTER_PORT:-$((12000 + RANDOM % 20000))}
export PYTHONPATH="$REPO${PYTHONPATH:+:$PYTHONPATH}"

set -x
# SRUN_ARGS is unquoted on purpose: it may hold several options.
# shellcheck disable=SC2086
exec srun -p "$PARTITION" \
    --job-name="$JOB_NAME" \
    --gres=gpu:"$GPUS_PER_NODE" \
    --ntasks="${GPUS:-8}" \
    --ntasks-per-node="$GPUS_PER_NODE" \
    --cpus-per-task="${CPUS_PER_TASK:-5}" \
    --kill-on-bad-exit=1 \
    ${SRUN_ARGS:-} \
    "${PYTHON:-python}" -u "$TOOL" "$@"
