#!/usr/bin/env bash
# The measurements of the open model and kernel issues, in priority order, in ONE device call:
# each step gets its own time limit and starts only while it can still finish before $DEADLINE
# seconds (default 570), so a short call returns the most important results. Run from the folder
# holding the bundles of `pnpm bundle:device` (the device kit), with $OUT set:
#
#   DEADLINE=570 bash measure.sh [--baseline <transformers baseline .py>] [--mlstm-kernels-path <dir>]
#                                [--start-at <text>] [--best-tiles <tiles>]
#
# A second call goes on where the first one stopped: `--start-at <text>` skips every step before the
# first one whose name contains <text>; `--best-tiles` gives the tiles a skipped sweep would have
# named (for the model's prefill with them).
#
# Each step writes its log (and the bench its results folder) under $OUT; the console gets the
# summary lines. `device-check-before.mjs`, if present, is device-check built from an older commit:
# the const-token timings of both are then alternated (same call, before/after).
set -u
K=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
OUT=${OUT:?set OUT to the folder for the results}
BASELINE=''
MK=''
START_AT=''
BEST_TILES=''
while [ $# -gt 0 ]; do
  case $1 in
    --baseline) BASELINE=$2; shift 2 ;;
    --mlstm-kernels-path) MK=$2; shift 2 ;;
    --start-at) START_AT=$2; shift 2 ;;
    --best-tiles) BEST_TILES=$2; shift 2 ;;
    *) echo "measure.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
DEADLINE=${DEADLINE:-570}
# Dawn's shader-compilation notes about the subgroup-matrix builtin names, and empty lines
F='deprecated\|^Warning\|subgroupMatrix\|^ *\^\|^$'
left() { echo $((DEADLINE - SECONDS)); }
step() { # name limit command...
  local name=$1 limit=$2 l
  shift 2
  if [ -n "$START_AT" ]; then
    case $name in
      *"$START_AT"*) START_AT='' ;;
      *) echo "== $name: skipped (before --start-at)"; return ;;
    esac
  fi
  l=$(left)
  if [ "$l" -lt 20 ]; then echo "== $name: skipped (${l}s left)"; return; fi
  [ "$limit" -gt "$l" ] && limit=$l
  echo "== $name (limit ${limit}s, at ${SECONDS}s)"
  timeout "$limit" "$@"
  echo "rc $? at ${SECONDS}s"
}
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
date -u
# 1. the GPU test projects: every GPU kernel changed since the last GPU run is checked first
step "GPU test project" 180 bash -c "node $K/matrix-path.gpu.mjs > $OUT/gpu-tests.log 2>&1"
grep -E "^not ok|gpu-tests:|^# (pass|fail|skipped)" "$OUT/gpu-tests.log" 2>/dev/null
step "hf-model GPU test project (int8 GEMV)" 150 bash -c "node $K/qgemv.gpu.mjs > $OUT/qgemv-gpu-tests.log 2>&1"
grep -E "^not ok|gpu-tests:" "$OUT/qgemv-gpu-tests.log" 2>/dev/null
# 2. the dense matmul's tile variants at the prefill shapes; its last line names the best tiles
step "dense matmul tile sweep (M 2048)" 120 bash -c "node $K/gemm-device.mjs --ms 2048 --reps 5 --checks 5 --out $OUT/gemm.csv 2>&1 | grep -v '$F' > $OUT/gemm.log"
grep -E "MISMATCH|TFLOP/s|^best tiles" "$OUT/gemm.log" 2>/dev/null | cut -c1-150
BEST=${BEST_TILES:-$(sed -n 's/^best tiles: \([^ ]*\) .*/\1/p' "$OUT/gemm.log" 2>/dev/null)}
# 3. the model (f16), and the transformers baseline in the same call
step "model f16 (TTFT, decode, packed prefill)" 130 bash -c "node $K/mlstm-bench.mjs --suite model --preset full --model 7b --dtypes f16 --out $OUT/model-f16 2>&1 | grep -v '$F' > $OUT/model-f16.log"
grep "^\[model\|results in" "$OUT/model-f16.log" 2>/dev/null
if [ -n "$BASELINE" ]; then
  step "transformers baseline" 130 bash -c "python3 $BASELINE > $OUT/transformers.log 2>&1"
  tail -6 "$OUT/transformers.log" 2>/dev/null
fi
# decode of several sequences on the matrix units (hf-model's denseDecode) against the GEMV above
step "model f16 decode on the matrix units (B 8, 32)" 90 bash -c "node $K/mlstm-bench.mjs --suite model --preset full --model 7b --dtypes f16 --prompt-lens 128 --model-batch-sizes 8,32 --no-packed --dense-decode matrix-units --out $OUT/model-f16-mu 2>&1 | grep -v '$F' > $OUT/model-f16-mu.log"
grep "^\[model\|results in" "$OUT/model-f16-mu.log" 2>/dev/null
step "model q8, q4 (int8 activations)" 130 bash -c "node $K/mlstm-bench.mjs --suite model --preset full --model 7b --dtypes q8,q4 --quant-decode int8 --prompt-lens 2048 --model-batch-sizes 1,8 --no-packed --out $OUT/model-q 2>&1 | grep -v '$F' > $OUT/model-q.log"
grep "^\[model\|results in" "$OUT/model-q.log" 2>/dev/null
# 4. the model's prefill with the sweep's best tiles (when they are not the default)
if [ -n "$BEST" ] && [ "$BEST" != "128x128x64:wm2:s1" ]; then
  step "model f16 prefill with tiles $BEST" 110 bash -c "node $K/mlstm-bench.mjs --suite model --preset full --model 7b --dtypes f16 --model-batch-sizes 1 --decode-steps 4 --dense-tiles $BEST --out $OUT/model-f16-tiles 2>&1 | grep -v '$F' > $OUT/model-f16-tiles.log"
  grep "^\[model\|results in" "$OUT/model-f16-tiles.log" 2>/dev/null
fi
# where the prefill's time goes: wall vs GPU time and GPU time per kernel at 128 and 2 048 tokens
step "prefill breakdown f16 (128, 2048 tokens, 32 blocks)" 90 bash -c "node $K/decode-device.mjs --blocks 32 --skip bw,gemv,decode --prefill 128,2048 --out $OUT/prefill-f16.json 2>&1 | grep -v '$F' > $OUT/prefill-f16.log"
grep -v '^adapter\|^features\|^limits' "$OUT/prefill-f16.log" 2>/dev/null | cut -c1-200
# short prompts: the tiles chooseDenseTiles picks for few rows against the fixed 128 x 128 ones
step "dense matmul at short prompts (M 128, 512)" 60 bash -c "node $K/gemm-device.mjs --variants short --ms 128,512 --reps 7 --checks 0 --out $OUT/gemm-short.csv 2>&1 | grep -v '$F' > $OUT/gemm-short.log"
grep -E "MISMATCH|TFLOP/s" "$OUT/gemm-short.log" 2>/dev/null | cut -c1-160
# 5. the kernel at decode sizes (W's GB/s against the GEMV's)
step "dense matmul at decode sizes (M 8, 16)" 60 bash -c "node $K/gemm-device.mjs --variants skinny --ms 8,16 --reps 9 --checks 0 --out $OUT/gemm-skinny.csv 2>&1 | grep -v '$F' > $OUT/gemm-skinny.log"
grep -E "MISMATCH|TFLOP/s" "$OUT/gemm-skinny.log" 2>/dev/null | cut -c1-160
# what Dawn's bounds checks cost the dense matmul (Node only: browsers keep them), default and rotated stores
step "dense matmul without robustness (M 2048)" 45 bash -c "node $K/gemm-device.mjs --no-robustness --variants 'default, x f16;128x128x64:wm2:s1:rot, x f16' --ms 2048 --reps 5 --checks 0 2>&1 | grep -v '$F' > $OUT/gemm-norobust.log"
grep -E "robustness|TFLOP/s" "$OUT/gemm-norobust.log" 2>/dev/null | cut -c1-160
# 6. the replayed decode step: GPU time, CPU encode time, per-kernel breakdown, dispatches (f16 and
# q4 at B 1 and 8); `decode-device-before.mjs`, if present, is decode-device built from an older commit (A/B)
for dt in f16 q4; do
  for w in after before; do
    exe=$K/decode-device.mjs
    if [ $w = before ]; then
      exe=$K/decode-device-before.mjs
      [ -f "$exe" ] || continue
    fi
    step "decode step breakdown $dt $w (32 blocks)" 80 bash -c "node $exe --blocks 32 --batches 1,8 --steps 40 --skip bw,gemv --dtype $dt --out $OUT/decode-$dt-$w.json 2>&1 | grep -v '$F' > $OUT/decode-$dt-$w.log"
    grep -v '^adapter\|^features\|^limits' "$OUT/decode-$dt-$w.log" 2>/dev/null | cut -c1-1500
  done
done
# 7. the rest, as time allows
step "packed kernels" 90 bash -c "node $K/packed-bench.mjs --out $OUT/packed-bench.json 2>&1 | grep -v '$F' > $OUT/packed-bench.log"
tail -12 "$OUT/packed-bench.log" 2>/dev/null
step "fast path vs CPU (7B widths, 2 blocks)" 100 bash -c "node $K/fastpath-check.mjs 2>&1 | grep -v '$F' > $OUT/fastpath.log"
tail -7 "$OUT/fastpath.log" 2>/dev/null
step "q8 / q4 layer error and speed" 100 bash -c "node $K/quant-layer-check.mjs --rows 1,8 --reps 10 --sweep --out $OUT/quant-layer.csv 2>&1 | grep -v '$F' > $OUT/quant-layer.log"
tail -12 "$OUT/quant-layer.log" 2>/dev/null
if [ -f "$K/device-check-before.mjs" ]; then
  for i in 1 2; do
    for w in before after; do
      exe=$K/device-check.mjs
      [ $w = before ] && exe=$K/device-check-before.mjs
      step "const-token $w ($i)" 40 bash -c "node $exe --matrix-only 2>&1 | grep 'matrix S=' > $OUT/consttoken-$w-$i.log"
      cat "$OUT/consttoken-$w-$i.log" 2>/dev/null
    done
  done
fi
if [ -n "$MK" ]; then
  xz -dkf "$K/ort-wasm-simd-threaded.asyncify.wasm.xz"
  step "const-token suite with ORT attention and live Triton" 200 bash -c "DISABLE_LLVM_OPT=1 node $K/mlstm-bench.mjs --suite consttoken --preset full --dtypes f16 --modes fw,fwbw --kernels chunkwise--webgpu_xl_chunk:128 --peers ort-attention,triton-live --attention-max-seq-len 16384 --mlstm-kernels-path $MK --triton-script $K/triton_live.py --triton-timeout 150 --ort-wasm-dir $K --out $OUT/consttoken 2>&1 | grep -v '$F' > $OUT/consttoken.log"
  grep "^\[" "$OUT/consttoken.log" 2>/dev/null | tail -30
fi
# one archive of everything (the device machine returns a limited number of files, not deep folders)
(cd "$OUT" && tar czf /tmp/measure-all.tgz --exclude=all.tgz . && cp /tmp/measure-all.tgz all.tgz)
date -u
if [ -n "$START_AT" ]; then
  echo "measure.sh: no step's name contains --start-at '$START_AT'" >&2
  exit 2
fi
