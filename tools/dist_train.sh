#!/usr/bin/env bash
# Distributed training on one or more machines with torchrun.
#
#   bash tools/dist_train.sh CONFIG GPUS [tools/train.py args...]
#
# Environment (defaults): NNODES (1), NODE_RANK (0), MASTER_ADDR (127.0.0.1),
# PORT (29500), PYTHON (python), MAX_RESTARTS (0: torchrun's --max-restarts;
# a restarted run resumes from the newest checkpoint in the work dir).
# GPUS is the number of processes per node.
# Without CUDA the processes use the gloo backend on CPU; OMP_NUM_THREADS
# defaults to 1 per process then (set it to override).
set -euo pipefail

if [ "$#" -lt 2 ]; then
    echo "usage: $0 CONFIG GPUS [train.py args...]" >&2
    exit 2
fi
CONFIG=$1
GPUS=$2
shift 2

TOOLS_DIR=$(cd "$(dirname "$0")" && pwd)
exec bash "$TOOLS_DIR/launch/torchrun.sh" "$GPUS" "$TOOLS_DIR/train.py" \
    "$CONFIG" --launcher pytorch "$@"
