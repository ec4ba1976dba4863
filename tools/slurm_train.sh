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

TOOLS_DIR=$(cd "$(dirname "$0")" && pwd)
exec bash "$TOOLS_DIR/launch/srun.sh" "$PARTITION" "$JOB_NAME" \
    "$TOOLS_DIR/train.py" "$CONFIG" --launcher slurm "$@"
