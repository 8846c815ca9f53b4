#!/usr/bin/env bash
# One-command setup of the OpenMMLab stack for mmvision_ext.
#
# Creates .venv/ at the repository root (Python 3.11) and installs torch 2.14.1,
# mmcv 2.1.0 *with compiled ops* (built from source, C++ standard patched for
# torch >= 2.10 headers), mmengine, mmsegmentation, mmdet, mmpretrain, timm,
# pycocotools, openmim, pytest with pytest-xdist and this project in editable mode.
#
# The built mmcv wheel is cached outside the repository, keyed by mmcv, torch,
# Python and CUDA/CPU, so a second setup on the same machine takes under a minute:
#   MMVX_CACHE_DIR   cache folder (default: ~/.cache/mmvision_ext)
#   PYTHON           interpreter to create the venv with (default: python3.11)
#   MAX_JOBS         parallel compile jobs for mmcv (default: number of cores)
#   MMVX_VENV        where to create the environment (default: .venv/ at the repository root)
#
# Idempotent: when everything is installed and the requirement files have not
# changed since, it only prints "setup: up to date".
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${MMVX_VENV:-$ROOT/.venv}"
CACHE="${MMVX_CACHE_DIR:-$HOME/.cache/mmvision_ext}"
MMCV_VERSION=2.1.0
TORCH_VERSION=2.14.1
TORCHVISION_VERSION=0.29.1
MIM_VERSION=0.3.9
STAMP="$VENV/.mmvx-setup-stamp"

say() { printf '[setup] %s\n' "$*"; }
die() { printf '[setup] ERROR: %s\n' "$*" >&2; exit 1; }

# The stamp records the content of every file that decides what gets installed.
stamp_digest() {
  cat "$ROOT/constraints.txt" "$ROOT/requirements.txt" "$ROOT/requirements-mim.txt" \
    "$ROOT/setup.py" "$ROOT/tools/setup_env.sh" \
    | sha256sum | cut -d' ' -f1
}

if [[ -f "$STAMP" && -x "$VENV/bin/python" && "$(cat "$STAMP")" == "$(stamp_digest)" ]]; then
  say "up to date ($VENV)"
  exit 0
fi

# --- 1. interpreter and compiler ------------------------------------------------
PY="${PYTHON:-python3.11}"
command -v "$PY" >/dev/null 2>&1 || die "Python 3.11 not found (looked for '$PY' on PATH). \
Install Python 3.11 (e.g. 'apt-get install python3.11 python3.11-venv' or pyenv) or point PYTHON=/path/to/python3.11."
PYVER="$("$PY" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
[[ "$PYVER" == "3.11" ]] || die "'$PY' is Python $PYVER; mmvision_ext needs Python 3.11 (set PYTHON=/path/to/python3.11)."
CXX_BIN="${CXX:-c++}"
command -v "$CXX_BIN" >/dev/null 2>&1 || die "no C++ compiler found ('$CXX_BIN'): mmcv's ops are compiled from source. \
Install one with 'apt-get install g++' (or set CXX)."

# --- 2. virtual environment and torch --------------------------------------------
if [[ ! -x "$VENV/bin/python" ]]; then
  say "creating $VENV with $PY"
  "$PY" -m venv "$VENV"
fi
VPY="$VENV/bin/python"
PIP=("$VPY" -m pip --disable-pip-version-check -q)
say "installing build tools and torch $TORCH_VERSION / torchvision $TORCHVISION_VERSION"
"${PIP[@]}" install -c "$ROOT/constraints.txt" --upgrade pip "setuptools<81" wheel ninja
"${PIP[@]}" install -c "$ROOT/constraints.txt" "torch==$TORCH_VERSION" "torchvision==$TORCHVISION_VERSION" "numpy>=1.26"

# --- 3. mmcv with compiled ops, from the cache or built from source --------------
if "$VPY" - <<'EOF' 2>/dev/null; then
import mmcv, mmcv.ops  # noqa: F401
from mmcv.ops import nms  # loads the compiled extension
assert mmcv.__version__ == "2.1.0"
EOF
  say "mmcv $MMCV_VERSION with ops already installed"
else
  read -r TAG USE_CUDA < <("$VPY" - <<'EOF'
import shutil, sys, torch
cuda = bool(shutil.which("nvcc")) and torch.cuda.is_available()
dev = ("cu" + torch.version.cuda.replace(".", "")) if cuda else "cpu"
print(f"torch{torch.__version__.split('+')[0]}-py{sys.version_info[0]}{sys.version_info[1]}-{dev}", int(cuda))
EOF
)
  WHEEL_DIR="$CACHE/wheels/mmcv-$MMCV_VERSION-$TAG"
  mkdir -p "$WHEEL_DIR" "$CACHE/logs"
  WHEEL="$(ls "$WHEEL_DIR"/mmcv-*.whl 2>/dev/null | head -n1 || true)"
  if [[ -z "$WHEEL" ]]; then
    LOG="$CACHE/logs/mmcv-$MMCV_VERSION-$TAG-$(date +%Y%m%d-%H%M%S).log"
    say "no cached mmcv wheel for $TAG: building mmcv $MMCV_VERSION from source ($([[ $USE_CUDA == 1 ]] && echo 'CUDA + CPU ops' || echo 'CPU ops'))"
    bash "$ROOT/tools/build_mmcv_wheel.sh" "$VPY" "$MMCV_VERSION" "$WHEEL_DIR" "$LOG" "$USE_CUDA"
    WHEEL="$(ls "$WHEEL_DIR"/mmcv-*.whl | head -n1)"
  else
    say "using cached mmcv wheel $WHEEL"
  fi
  "${PIP[@]}" install -c "$ROOT/constraints.txt" "$WHEEL"
fi

# --- 4. the rest of the stack and the project ------------------------------------
say "installing mmengine, mmseg, mmdet, mmpretrain, timm, pycocotools, pytest"
"${PIP[@]}" install -c "$ROOT/constraints.txt" -r "$ROOT/requirements.txt"
# OpenMMLab's `mim` without its dataset-download dependency (opendatalab -> openxlab),
# which pins setuptools 60, requests 2.28, rich and tqdm to old releases and would
# downgrade them under the stack; mim's train/test/search do not import it.
say "installing openmim (mim train / test / search)"
"${PIP[@]}" install -c "$ROOT/constraints.txt" --no-deps "openmim==$MIM_VERSION"
"${PIP[@]}" install -c "$ROOT/constraints.txt" -r "$ROOT/requirements-mim.txt"
say "installing mmvision_ext in editable mode"
"${PIP[@]}" install -c "$ROOT/constraints.txt" --no-build-isolation --no-deps -e "$ROOT"
"$VPY" -c "import mmcv.ops, mmseg, mmdet, mmpretrain, timm, mmvision_ext" \
  || die "the installed stack does not import; see the error above"
stamp_digest >"$STAMP"
say "done: $VENV"
