#!/usr/bin/env bash
# Distributed training on a Slurm cluster, one task per GPU.
#
#   bash tools/slurm_train.sh PARTITION JOB_NAME CONFIG [train.py args...]
#
# Environment (defaults): GPUS (8, tasks in all), GPUS_PER_NODE (8),
# CPUS_PER_TASK (5), SRUN_ARGS ("", extra srun options, word-split),
# MASTER_PORT (random in 12000-31999), PYTHON (python).
set -euo pipefail

if [ "$#" -lt 3 ]; then
    echo "usage: $0 PARTITION JOB_NAME CONFIG [train.py args...]" >&2
    exit 2
fi
PARTITION=$1
JOB_NAME=$2
CONFIG=$3
shift 3

GPUS=${GPUS:-8}
GPUS_PER_NODE=${GPUS_PER_NODE:-8}
CPUS_PER_TASK=${CPUS_PER_TASK:-5}
SRUN_ARGS=${SRUN_ARGS:-""}
TOOLS_DIR=$(cd "$(dirname "$0")" && pwd)

export MASTER_PORT=${MASTER_PORT:-$((12000 + RANDOM % 20000))}
export PYTHONPATH="$(dirname "$TOOLS_DIR")${PYTHONPATH:+:$PYTHONPATH}"

set -x
# SRUN_ARGS is unquoted on purpose: it may hold several options.
# shellcheck disable=SC2086
exec srun -p "$PARTITION" \
    --job-name="$JOB_NAME" \
    --gres=gpu:"$GPUS_PER_NODE" \
    --ntasks="$GPUS" \
    --ntasks-per-node="$GPUS_PER_NODE" \
    --cpus-per-task="$CPUS_PER_TASK" \
    --kill-on-bad-exit=1 \
    $SRUN_ARGS \
    "${PYTHON:-python}" -u "$TOOLS_DIR/train.py" "$CONFIG" \
    --launcher slurm "$@"
