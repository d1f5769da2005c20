#!/usr/bin/env bash
# Runs the GPU benchmarks on the GPU machine, one after another (never two on the GPU at once), each
# under a time limit, its output also saved to $OUT/<name>.txt ($OUT, else ./bench-out).
# Prepared here first by scripts/bench_prepare.sh; see scripts/README-bench.md for the device calls.
#
#   source .gpu/boot.sh && bash scripts/bench_all.sh PART...
#   PART: forward   bench_cudnn.py (--nhwc) then bench_webgpu.mjs --check --cudnn   (about 3.5 min)
#         backward  bench_backward.mjs --check (runs bench_backward_cudnn.py itself) (about 2 min)
#         train     bench_train.mjs: one training step, ours / tfjs / PyTorch        (about 1.5 min)
#         accuracy  bench_train.mjs --accuracy: Fashion-MNIST 10 epochs x 3 seeds,
#                   npm start on WebGPU and PyTorch (needs .data or FASHION_MNIST_DIR) (about 3 min)
#         all       the four, in that order (about 10 min: more than one device command may run;
#                   split it over two calls)
#         baseline  issue 9's before/after: the forward bench of commit 1f90642 (.baseline/, carried) and
#                   of this tree, ours only, back to back (about 1.5 min)
#         workers   bench_workers.mjs: spawnWorker pools on the host's cores (WASM, no GPU; about 1.5 min)
#   --smoke: each script's --smoke (tiny sizes; checks the driver on a machine without a GPU)
set -uo pipefail
cd "$(dirname "$0")/.."
out=${OUT:-bench-out}
mkdir -p "$out"
export PYTHONUNBUFFERED=1   # (PYTHON: the python3 with torch, when not the first on PATH)
smoke=()
parts=()
for a in "$@"; do
  case "$a" in
    --smoke) smoke=(--smoke) ;;
    forward|backward|train|accuracy|baseline|workers) parts+=("$a") ;;
    all) parts+=(forward backward train accuracy) ;;
    *) echo "bench_all: unknown argument '$a' (forward, backward, train, accuracy, all, --smoke)" >&2; exit 2 ;;
  esac
done
[ ${#parts[@]} -gt 0 ] || { echo "bench_all: name the parts to run: forward backward train accuracy (or all)" >&2; exit 2; }

status=0
# run NAME LIMIT_S COMMAND...: the command's output to the terminal and to $out/NAME.txt
run() {
  local name=$1 limit=$2
  shift 2
  echo "=== $name: $* (limit ${limit} s) $(date -u +%H:%M:%S)"
  local t0=$SECONDS
  timeout --kill-after=10 "$limit" "$@" 2>&1 | tee "$out/$name.txt"
  local rc=${PIPESTATUS[0]}
  echo "=== $name: exit $rc after $((SECONDS - t0)) s"
  [ "$rc" -eq 0 ] || status=1
}

# Fashion-MNIST: .data/*.xz (bench_prepare.sh) -> .gz files in a temporary folder
data_dir() {
  if [ -n "${FASHION_MNIST_DIR:-}" ]; then return 0; fi
  if ls .data/*.xz >/dev/null 2>&1; then
    local d=/tmp/bench-fashion-mnist
    mkdir -p "$d"
    for f in .data/*.xz; do xz -dc "$f" | gzip -1 > "$d/$(basename "$f" .xz).gz"; done
    export FASHION_MNIST_DIR=$d
  fi
}

for part in "${parts[@]}"; do
  case "$part" in
    forward)
      run cudnn 240 "${PYTHON:-python3}" scripts/bench_cudnn.py --json --nhwc "${smoke[@]}"
      run webgpu 300 node scripts/bench_webgpu.mjs --check --cudnn "$out/cudnn.txt" "${smoke[@]}"
      ;;
    backward)
      run backward 360 node scripts/bench_backward.mjs --check --json "${smoke[@]}"
      ;;
    baseline)
      run baseline-old 240 node .baseline/scripts/bench_webgpu.mjs --no-tfjs --json "${smoke[@]}"
      run baseline-new 240 node scripts/bench_webgpu.mjs --no-tfjs --json "${smoke[@]}"
      run baseline-old2 240 node .baseline/scripts/bench_webgpu.mjs --no-tfjs --json "${smoke[@]}"
      ;;
    workers)
      run workers 240 node scripts/bench_workers.mjs --images 1024
      ;;
    train)
      run train 300 node scripts/bench_train.mjs --json "${smoke[@]}"
      ;;
    accuracy)
      data_dir
      echo "Fashion-MNIST from ${FASHION_MNIST_DIR:-/usr/share/datasets/fashion-mnist}"
      run accuracy 540 node scripts/bench_train.mjs --accuracy --json "${smoke[@]}"
      ;;
  esac
done
exit $status
