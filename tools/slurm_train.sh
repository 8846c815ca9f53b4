#!/usr/bin/env bash
# Train on a Slurm cluster, as mmseg's / mmdet's slurm_train.sh:
#   [GPUS=8] bash tools/slurm_train.sh PARTITION JOB_NAME CONFIG [train.py options, e.g. --work-dir DIR]
# Environment: GPUS, GPUS_PER_NODE, CPUS_PER_TASK, SRUN_ARGS.
[ $# -ge 3 ] || { echo "usage: bash tools/slurm_train.sh PARTITION JOB_NAME CONFIG [train.py options]" >&2; exit 2; }
set -x
PARTITION=$1
JOB_NAME=$2
CONFIG=$3
GPUS=${GPUS:-8}
GPUS_PER_NODE=${GPUS_PER_NODE:-8}
CPUS_PER_TASK=${CPUS_PER_TASK:-5}
SRUN_ARGS=${SRUN_ARGS:-""}
PY_ARGS=("${@:4}")
DIR="$(cd "$(dirname "$0")" && pwd)"
PY="${PYTHON:-$DIR/../.venv/bin/python}"
[ -x "$PY" ] || PY=python

PYTHONPATH="$DIR/..":$PYTHONPATH \
srun -p ${PARTITION} \
    --job-name=${JOB_NAME} \
    --gres=gpu:${GPUS_PER_NODE} \
    --ntasks=${GPUS} \
    --ntasks-per-node=${GPUS_PER_NODE} \
    --cpus-per-task=${CPUS_PER_TASK} \
    --kill-on-bad-exit=1 \
    ${SRUN_ARGS} \
    "$PY" -u "$DIR/train.py" "$CONFIG" --launcher="slurm" "${PY_ARGS[@]}"
