#!/usr/bin/env bash
# Gathers into one folder every wheel that tools/analysis/gpu_report.py needs on a GPU
# machine that has Python, torch and timm but no OpenMMLab stack and no network:
#
#   bash tools/analysis/gpu_report_pack.sh [DEST]     # default: work_dirs/gpu_pack
#
# then copy the repository (DEST included) there and run tools/analysis/gpu_report.sh.
#
# What goes in: mmengine, mmcv (its pure-Python build: compiled ops are tied to one
# torch and one Python; its source is packed too, for gpu_report.sh to build them on the
# machine), mmsegmentation,
# mmdet, mmpretrain and the small packages they import, at the versions of this
# project's .venv; the compiled ones (pycocotools, shapely, regex) for CPython 3.11 and
# 3.12 on x86-64 Linux. What stays out, each larger than the folder's 60 MiB budget or
# close to it: OpenCV (64 MB), SciPy (35 MB) and matplotlib with its dependencies; a
# machine without them reports the rows that need them as not run, with the reason.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
case "${1:-}" in
  -h|--help) sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"; exit 0 ;;
  -*) echo "error: unknown option $1; the one argument is the folder to write (DEST)" >&2; exit 2 ;;
esac
DEST="${1:-$ROOT/work_dirs/gpu_pack}"
VPY="$ROOT/.venv/bin/python"
BUDGET_MIB=60
PURE=(mmengine mmsegmentation mmdet mmpretrain addict yapf platformdirs termcolor rich
      markdown-it-py mdurl Pygments ftfy wcwidth prettytable terminaltables mat4py
      model-index ordered-set Markdown einops importlib_metadata lazy-importer zipp colorama
      setuptools)
COMPILED=(pycocotools shapely regex)
PYTHONS=(3.11 3.12)

say() { printf '[gpu-pack] %s\n' "$*"; }
die() { printf '[gpu-pack] ERROR: %s\n' "$*" >&2; exit 1; }

[[ -x "$VPY" ]] || die "no $VPY: run 'make setup' first (the pack takes the versions of that environment)"
version() { "$VPY" -c "import importlib.metadata as m, sys; print(m.version(sys.argv[1]))" "$1"; }
PIP=("$VPY" -m pip --disable-pip-version-check -q)

# Re-packing replaces an earlier pack (marked by .gpu_pack), never a folder of the user's.
if [[ -d "$DEST" && -n "$(ls -A "$DEST")" && ! -f "$DEST/.gpu_pack" ]]; then
  die "$DEST exists and is not a folder this script made; name a new or empty one"
fi
rm -rf "$DEST" && mkdir -p "$DEST" && touch "$DEST/.gpu_pack"
: > "$DEST/requirements.txt"
for name in "${PURE[@]}"; do
  spec="$name==$(version "$name")"
  echo "$spec" >> "$DEST/requirements.txt"
  "${PIP[@]}" download --no-deps --only-binary=:all: -d "$DEST" "$spec" \
    || die "could not download $spec"
done
for name in "${COMPILED[@]}"; do
  spec="$name==$(version "$name")"
  echo "$spec" >> "$DEST/requirements.txt"
  for py in "${PYTHONS[@]}"; do
    "${PIP[@]}" download --no-deps --only-binary=:all: -d "$DEST" --implementation cp \
      --python-version "$py" --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 \
      --platform manylinux2014_x86_64 "$spec" || die "could not download $spec for Python $py"
  done
done

# mmcv: the same release without its compiled ops (MMCV_WITH_OPS=0 makes a pure wheel).
MMCV="mmcv==$(version mmcv)"
echo "mmcv-lite==$(version mmcv)" >> "$DEST/requirements.txt"  # the name of mmcv's pure build
SRC="$(mktemp -d)"
trap 'rm -rf "$SRC"' EXIT
"${PIP[@]}" download --no-deps --no-binary mmcv --no-build-isolation -d "$SRC" "$MMCV" \
  || die "could not download the $MMCV source"
MMCV_WITH_OPS=0 "${PIP[@]}" wheel --no-deps --no-build-isolation -w "$DEST" "$SRC"/mmcv-*.tar.gz \
  || die "could not build the pure-Python $MMCV wheel"
cp "$SRC"/mmcv-*.tar.gz "$DEST/"  # for MMVX_GPU_BUILD_OPS_S of gpu_report.sh

size_kib=$(du -sk "$DEST" | cut -f1)
say "$(ls "$DEST"/*.whl | wc -l) wheels, $((size_kib / 1024)) MiB in $DEST"
(( size_kib <= BUDGET_MIB * 1024 )) || die "the pack is $((size_kib / 1024)) MiB, over its $BUDGET_MIB MiB budget"
