#!/usr/bin/env bash
# Prepares, on this machine (no GPU), what the benchmarks need on the GPU machine (scripts/README-bench.md):
#   1. tfjs's gradients for bench_train's tfjs side: @tensorflow/tfjs-layers 4.22.0, installed
#      --no-save (not a dependency of the package; its Node bundle registers every gradient);
#   2. .gpu/ (../shared/gpu/prepare): node, the Vulkan loader, webgpu, tfjs-core, tfjs-backend-webgpu,
#      tfjs-layers (about 35 MB);
#   3. .data/: Fashion-MNIST's four IDX files recompressed with xz (27 MB instead of 31 MB as .gz, so
#      that one call's working tree stays under the device's 64 MiB); bench_all.sh turns them back
#      into .gz files on the GPU machine and points FASHION_MNIST_DIR there.
# Then prints the size of what a call carrying .gpu, dist and .data sends.
# Run from the project root after the build (node scripts/setup.mjs --no-system):
#   bash scripts/bench_prepare.sh [--no-data]
set -euo pipefail
cd "$(dirname "$0")/.."
shared=${SHARED_DIR:-../shared}
[ -x "$shared/gpu/prepare" ] || { echo "bench_prepare: no $shared/gpu/prepare (set SHARED_DIR)" >&2; exit 1; }
[ -f dist/index.js ] || { echo "bench_prepare: build first (node scripts/setup.mjs --no-system)" >&2; exit 1; }
exclude=$(git rev-parse --git-path info/exclude)
mkdir -p "$(dirname "$exclude")"
for p in /.gpu/ /.data/; do grep -qx "$p" "$exclude" 2>/dev/null || echo "$p" >> "$exclude"; done
if [ ! -d node_modules/@tensorflow/tfjs-layers ]; then
  npm install --no-save --no-audit --no-fund @tensorflow/tfjs-layers@4.22.0
fi
"$shared/gpu/prepare" @tensorflow/tfjs-core @tensorflow/tfjs-backend-webgpu @tensorflow/tfjs-layers
if [ "${1:-}" != "--no-data" ]; then
  src=${FASHION_MNIST_DIR:-/usr/share/datasets/fashion-mnist}
  rm -rf .data && mkdir -p .data
  for f in train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte; do
    [ -f "$src/$f.gz" ] || { echo "bench_prepare: $src/$f.gz is missing (apt-get install dataset-fashion-mnist, or set FASHION_MNIST_DIR)" >&2; exit 1; }
    gzip -dc "$src/$f.gz" | xz -9 -T2 > ".data/$f.xz"
  done
fi
# what travels: tracked files, untracked files git does not ignore, and the carried paths
tree=$( (git ls-files -z; git ls-files -z --others --exclude-standard) | xargs -0 -r du -cb 2>/dev/null | awk 'END { print $1 }')
carried=$(du -cb .gpu dist $( [ -d .data ] && echo .data ) | awk 'END { print $1 }')
total=$((tree + carried))
echo "bench_prepare: a call carrying .gpu dist$( [ -d .data ] && echo ' .data') sends about $((total / 1048576)) MiB (the limit is 64 MiB)"
