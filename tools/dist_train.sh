#!/usr/bin/env bash
# Multi-process train with torchrun, as mmseg's / mmdet's dist_train.sh (which used the
# deprecated torch.distributed.launch). Usage:
#   bash tools/dist_train.sh CONFIG GPUS [train.py options]
# Environment: NNODES, NODE_RANK, PORT, MASTER_ADDR (as mmseg/mmdet).
[ $# -ge 2 ] || { echo "usage: bash tools/dist_train.sh CONFIG GPUS [train.py options]" >&2; exit 2; }
CONFIG=$1
GPUS=$2
[[ "$GPUS" =~ ^([1-9][0-9]*|auto|gpu|cpu)$ ]] || { echo "error: GPUS must be a number of processes (or auto, gpu, cpu, as torchrun's --nproc-per-node), got '$GPUS'; usage: bash tools/dist_train.sh CONFIG GPUS [train.py options]" >&2; exit 2; }
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
PORT=${PORT:-29500}
MASTER_ADDR=${MASTER_ADDR:-"127.0.0.1"}
DIR="$(cd "$(dirname "$0")" && pwd)"
PY="${PYTHON:-$DIR/../.venv/bin/python}"
[ -x "$PY" ] || PY=python

PYTHONPATH="$DIR/..":$PYTHONPATH \
exec "$PY" "$DIR/torchrun.py" \
    --nnodes=$NNODES \
    --node_rank=$NODE_RANK \
    --master_addr=$MASTER_ADDR \
    --nproc_per_node=$GPUS \
    --master_port=$PORT \
    "$DIR/train.py" \
    "$CONFIG" \
    --launcher pytorch "${@:3}"
