#!/usr/bin/env bash
# Runs tools/analysis/gpu_report.py on a machine that has Python, torch and timm but
# not the OpenMMLab stack and no network: installs the wheels gathered by
# tools/analysis/gpu_report_pack.sh, offline, into a private site folder that sits in
# front of the interpreter's own packages (whose torch, timm, OpenCV ... it uses), then
# runs the report with the arguments given.
#
#   bash tools/analysis/gpu_report.sh --out work_dirs/gpu_report
#
#   PYTHON                interpreter (default: python3)
#   MMVX_GPU_PACK         the wheels (default: work_dirs/gpu_pack)
#   MMVX_GPU_SITE         the site folder to install them into (default: /tmp/mmvx-gpu-site)
#   MMVX_GPU_BUILD_OPS_S  after the report, build mmcv's compiled ops (CPU kernels, all
#                         cores) from the packed source within this many seconds, then
#                         run the rows that need them (the UperNet step); 0: never (default)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
PY="${PYTHON:-python3}"
if [[ "${1:-}" == -h || "${1:-}" == --help ]]; then
  sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"; echo
  exec "$PY" "$ROOT/tools/analysis/gpu_report.py" --help
fi
PACK="${MMVX_GPU_PACK:-$ROOT/work_dirs/gpu_pack}"
SITE="${MMVX_GPU_SITE:-/tmp/mmvx-gpu-site}"
BUILD_S="${MMVX_GPU_BUILD_OPS_S:-0}"
[[ -f "$PACK/requirements.txt" ]] || { echo "error: no wheels in $PACK: run 'bash tools/analysis/gpu_report_pack.sh' on a machine with the project's .venv and copy $PACK here" >&2; exit 2; }
"$PY" -c 'import torch, timm' || { echo "error: $PY cannot import torch and timm, which the report takes from the machine" >&2; exit 2; }
"$PY" -m pip --disable-pip-version-check install -q --no-index --no-deps --no-compile \
  --find-links "$PACK" --target "$SITE" --upgrade -r "$PACK/requirements.txt"
cd "$ROOT"
export PYTHONPATH="$SITE:$ROOT${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
"$PY" tools/analysis/gpu_report.py "$@"

(( BUILD_S > 0 )) || exit 0
# mmseg imports mmcv's compiled ops when its models load. CPU kernels only (no GPU
# visible to the build): the UperNet step uses none of them, and CUDA kernels take far longer.
SRC="$(mktemp -d)"
tar -xzf "$PACK"/mmcv-*.tar.gz -C "$SRC"
PKG="$(find "$SRC" -mindepth 1 -maxdepth 1 -type d -name 'mmcv-*' | head -n1)"
sed -i 's/-std=c++14/-std=c++20/g; s/-std=c++17/-std=c++20/g' "$PKG/setup.py"  # torch >= 2.10 headers
echo "[gpu-report] building mmcv's compiled ops, at most $BUILD_S s"
start=$(date +%s)
if (cd "$PKG" && CUDA_VISIBLE_DEVICES= MMCV_WITH_OPS=1 FORCE_CUDA=0 MAX_JOBS="$(nproc)" \
    timeout "$BUILD_S" "$PY" -m pip --disable-pip-version-check wheel -q --no-build-isolation \
    --no-deps -w "$SRC/dist" . > "$SRC/build.log" 2>&1); then
  echo "[gpu-report] built in $(( $(date +%s) - start )) s"
  "$PY" -m pip --disable-pip-version-check install -q --no-index --no-deps --target "$SITE" \
    --upgrade "$SRC"/dist/mmcv-*.whl
  "$PY" tools/analysis/gpu_report.py --only upernet "$@"
else
  echo "[gpu-report] mmcv's ops did not build within $BUILD_S s; the UperNet rows stay unmeasured"
  tail -n 5 "$SRC/build.log"
fi
