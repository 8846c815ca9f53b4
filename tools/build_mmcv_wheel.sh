#!/usr/bin/env bash
# Build an mmcv wheel with compiled ops for the given interpreter.
#   build_mmcv_wheel.sh PYTHON VERSION WHEEL_DIR LOG USE_CUDA
# MMVX_MMCV_SDIST=/path/to/mmcv-VERSION.tar.gz uses a local source archive
# instead of downloading one (offline machines).
# Prints progress every 30 s; on failure prints the log's tail and its path.
set -euo pipefail
VPY="$1"; VERSION="$2"; WHEEL_DIR="$3"; LOG="$4"; USE_CUDA="$5"
say() { printf '[setup] %s\n' "$*"; }
die() { printf '[setup] ERROR: %s\n' "$*" >&2; exit 1; }

mkdir -p "$WHEEL_DIR" "$(dirname "$LOG")"
: >"$LOG"
say "this takes several minutes (30+ on 2 busy cores); full log: $LOG"
SRC="$(mktemp -d)"
trap 'rm -rf "$SRC"' EXIT
if [[ -n "${MMVX_MMCV_SDIST:-}" ]]; then
  cp "$MMVX_MMCV_SDIST" "$SRC/"
else
  # PyPI has only mmcv 2.1.0's source. Without build isolation, pip runs its
  # setup.py for metadata against the torch already in the venv.
  "$VPY" -m pip --disable-pip-version-check download --no-deps --no-binary mmcv \
    --no-build-isolation -d "$SRC" "mmcv==$VERSION" >>"$LOG" 2>&1 \
    || die "could not download the mmcv $VERSION source; log: $LOG"
fi
tar -xzf "$SRC"/mmcv-*.tar.gz -C "$SRC" || die "could not unpack the mmcv source; log: $LOG"
PKG="$(find "$SRC" -mindepth 1 -maxdepth 1 -type d -name 'mmcv-*' | head -n1)"
[[ -f "$PKG/setup.py" ]] || die "no setup.py in the mmcv source archive; log: $LOG"
# torch >= 2.10 headers need C++20; mmcv 2.1.0's setup.py hard-codes C++14/17.
sed -i 's/-std=c++14/-std=c++20/g; s/-std=c++17/-std=c++20/g' "$PKG/setup.py"

(
  cd "$PKG"
  MMCV_WITH_OPS=1 FORCE_CUDA="$USE_CUDA" MAX_JOBS="${MAX_JOBS:-$(nproc)}" \
    "$VPY" -m pip --disable-pip-version-check wheel -v --no-build-isolation --no-deps \
    -w "$WHEEL_DIR" . >>"$LOG" 2>&1
) &
BUILD_PID=$!
START=$(date +%s)
while kill -0 "$BUILD_PID" 2>/dev/null; do
  for _ in $(seq 30); do kill -0 "$BUILD_PID" 2>/dev/null && sleep 1; done
  STEP="$(grep -oE '\[[0-9]+/[0-9]+\]' "$LOG" | tail -n1 || true)"
  say "building mmcv: $(( ($(date +%s) - START) / 60 )) min elapsed, compiled ${STEP:-[0/?]} op files"
done
if ! wait "$BUILD_PID"; then
  tail -n 25 "$LOG" >&2
  die "mmcv build failed; full log: $LOG"
fi
ls "$WHEEL_DIR"/mmcv-*.whl >/dev/null 2>&1 || die "mmcv build produced no wheel; log: $LOG"
say "built $(ls "$WHEEL_DIR"/mmcv-*.whl | head -n1) in $(( ($(date +%s) - START) / 60 )) min"
