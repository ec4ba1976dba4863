#!/usr/bin/env bash
# Distributed testing on one or more machines with torchrun.
#
#   bash tools/dist_test.sh CONFIG CHECKPOINT GPUS [tools/test.py args...]
#
# Environment (defaults): NNODES (1), NODE_RANK (0), MASTER_ADDR (127.0.0.1),
# PORT (29500), PYTHON (python). GPUS is the number of processes per node.
# Without CUDA the processes use the gloo backend on CPU; OMP_NUM_THREADS
# defaults to 1 per process then (set it to override).
set -euo pipefail

if [ "$#" -lt 3 ]; then
    echo "usage: $0 CONFIG CHECKPOINT GPUS [test.py args...]" >&2
    exit 2
fi
CONFIG=$1
CHECKPOINT=$2
GPUS=$3
shift 3

TOOLS_DIR=$(cd "$(dirname "$0")" && pwd)
exec bash "$TOOLS_DIR/launch/torchrun.sh" "$GPUS" "$TOOLS_DIR/test.py" \
    "$CONFIG" "$CHECKPOINT" --launcher pytorch "$@"
