#!/usr/bin/env bash
# What dist_train.sh and dist_test.sh share: run a tool on GPUS processes per
# node with torchrun, the repository on PYTHONPATH.
#
#   bash tools/launch/torchrun.sh GPUS TOOL.py [TOOL args...]
#
# Environment (defaults): NNODES (1), NODE_RANK (0), MASTER_ADDR (127.0.0.1),
# PORT (29500), PYTHON (python), OMP_NUM_THREADS (1 per process),
# MAX_RESTARTS (0): how often torchrun restarts the workers after one fails;
# restarted training workers resume from the work dir's newest checkpoint.
set -euo pipefail

GPUS=$1
TOOL=$2
shift 2
REPO=$(cd "$(dirname "$0")/../.." && pwd)

export PYTHONPATH="$REPO${PYTHONPATH:+:$PYTHONPATH}"
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}

exec "${PYTHON:-python}" -m torch.distributed.run \
    --nnodes="${NNODES:-1}" \
    --node_rank="${NODE_RANK:-0}" \
    --master_addr="${MASTER_ADDR:-127.0.0.1}" \
    --master_port="${PORT:-29500}" \
    --nproc_per_node="$GPUS" \
    --max-restarts="${MAX_RESTARTS:-0}" \
    "$TOOL" "$@"
