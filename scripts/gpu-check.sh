#!/usr/bin/env bash
# One prepared, non-interactive GPU check (under 8 minutes, no network): what csq can train on
# here (csq doctor), the ResNet-20 training step on WebGPU (and on tfjs-node-gpu when it is
# installed) with the CSQ/float ratio and the kernel profile, and a 1-epoch quickstart on the
# GPU. Everything goes to OUT_DIR; the last lines printed are the summary (OUT_DIR/summary.txt).
#
#   scripts/gpu-check.sh OUT_DIR                     # a machine with a GPU (pnpm gpu:check OUT_DIR)
#   scripts/gpu-check.sh OUT_DIR --allow-software    # no GPU: WebGPU on SwiftShader, shortened
#
# Needs a checkout where `pnpm install` has run (it builds what is missing, offline).
# Exit status: 0 when every step passed, else the number of failed steps.
set -uo pipefail

usage() {
  echo "usage: scripts/gpu-check.sh OUT_DIR [--allow-software]" >&2
  exit 2
}
[ $# -ge 1 ] || usage
OUT=$1
shift
SOFTWARE=0
for a in "$@"; do
  case $a in
  --allow-software) SOFTWARE=1 ;;
  *) usage ;;
  esac
done

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 2
mkdir -p "$OUT" || exit 2
OUT=$(cd "$OUT" && pwd)
LOG="$OUT/gpu-check.log"
: >"$LOG"
FAILED=0
SUMMARY=()
START=$(date +%s)

say() { echo "== $*" | tee -a "$LOG"; }
# step NAME SECONDS COMMAND...: runs with a time limit, output to the log and OUT/NAME.txt
step() {
  local name=$1 limit=$2
  shift 2
  say "$name: $*"
  local t0=$(date +%s)
  timeout --kill-after=10 "$limit" "$@" 2>&1 | tee "$OUT/$name.txt" >>"$LOG"
  local rc=${PIPESTATUS[0]}
  local secs=$(($(date +%s) - t0))
  if [ "$rc" -eq 0 ]; then
    SUMMARY+=("ok     $name (${secs} s)")
  else
    [ "$rc" -eq 124 ] && SUMMARY+=("FAILED $name: over its ${limit} s limit") ||
      SUMMARY+=("FAILED $name: exit status $rc (see $OUT/$name.txt)")
    FAILED=$((FAILED + 1))
  fi
  tail -n 4 "$OUT/$name.txt"
  return 0
}

export TURBO_TELEMETRY_DISABLED=1
CSQ="node packages/cli/bin/csq.mjs"
if [ "$SOFTWARE" -eq 1 ]; then
  # SwiftShader (Chromium's CPU Vulkan driver) stands in for a GPU: set before Node starts
  SS=${CSQ_SWIFTSHADER_DIR:-/usr/lib/chromium}
  if [ -f "$SS/vk_swiftshader_icd.json" ]; then
    export VK_ICD_FILENAMES="$SS/vk_swiftshader_icd.json"
    export LD_LIBRARY_PATH="$SS${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  fi
  export CSQ_WEBGPU_ALLOW_SOFTWARE=1
  # SwiftShader is ~100x slower than wasm (a ResNet-20 step at batch 4 took minutes here): the
  # small MNIST net at batch 2 checks the script end to end
  MODEL=mnist-cnn BATCH=2 STEPS=1
else
  MODEL=resnet20 BATCH=128 STEPS=5
fi

say "csq gpu check: $(date -u +%Y-%m-%dT%H:%M:%SZ), $(uname -srm), node $(node --version), out $OUT"
{
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv 2>&1 || echo "nvidia-smi: not available"
  git log -1 --format='commit %H %s' 2>/dev/null
} | tee "$OUT/machine.txt" >>"$LOG"

# build what changed (turbo's cache makes this quick when nothing did; no network needed)
step build 300 npx turbo run build --filter=@csq/cli... --filter=@csq/trainer-webgpu --output-logs=errors-only

# 1. what this machine can train on, and why not
step doctor 120 $CSQ doctor --verbose
$CSQ doctor --json >"$OUT/doctor.json" 2>>"$LOG"

# 2. the ResNet-20 step: WebGPU (kernel profile), tfjs-node-gpu when installed, wasm for reference
SW=()
[ "$SOFTWARE" -eq 1 ] && SW=(--allow-software)
step bench-webgpu 300 node packages/trainer-webgpu/bench/run.mjs packages/trainer-webgpu/bench/resnet-step.ts \
  --model "$MODEL" --batch "$BATCH" --steps "$STEPS" --profile --json "$OUT/bench-webgpu.json" "${SW[@]}"
GPU_PKG=0
(cd packages/trainer-node && node -e "require.resolve('@tensorflow/tfjs-node-gpu')" 2>/dev/null) && GPU_PKG=1
if [ "$GPU_PKG" -eq 1 ]; then
  step bench-tfjs-node-gpu 240 node packages/trainer-node/bench/step.mjs --backend tfjs-node-gpu \
    --model "$MODEL" --batch "$BATCH" --steps "$STEPS"
fi
if [ "$SOFTWARE" -eq 0 ]; then
  step bench-wasm 120 node packages/trainer-node/bench/step.mjs --backend wasm --batch 128 --steps 2
fi

# 3. a 1-epoch quickstart on the GPU (shortened on SwiftShader: 32 tiny images of its own)
if [ "$SOFTWARE" -eq 1 ]; then
  node -e '
    const fs = require("node:fs"); const d = process.argv[1]; fs.mkdirSync(d, { recursive: true });
    const head = (m, dims) => { const b = Buffer.alloc(4 + 4 * dims.length); b.writeUInt32BE(m, 0);
      dims.forEach((v, i) => b.writeUInt32BE(v, 4 + 4 * i)); return b; };
    const put = (name, n) => {
      const px = Buffer.alloc(n * 64); for (let i = 0; i < px.length; i++) px[i] = (i * 37 + (i >> 6) * 11) % 256;
      fs.writeFileSync(`${d}/${name}-images-idx3-ubyte`, Buffer.concat([head(0x803, [n, 8, 8]), px]));
      fs.writeFileSync(`${d}/${name}-labels-idx1-ubyte`, Buffer.concat([head(0x801, [n]), Buffer.from(Array.from({ length: n }, (_, i) => i % 10))]));
    };
    put("train", 32); put("t10k", 16);' "$OUT/tiny-idx"
  QUICK=(--data "idx:$OUT/tiny-idx" --batch 16)
else
  QUICK=()
fi
rm -rf "$OUT/quickstart-webgpu"
step quickstart-webgpu 300 $CSQ train --recipe quickstart --epochs 1 --backend webgpu \
  --out "$OUT/quickstart-webgpu" "${QUICK[@]}"
if [ "$GPU_PKG" -eq 1 ]; then
  rm -rf "$OUT/quickstart-tfjs-node-gpu"
  step quickstart-tfjs-node-gpu 240 $CSQ train --recipe quickstart --epochs 1 --backend tfjs-node-gpu \
    --out "$OUT/quickstart-tfjs-node-gpu"
fi

# summary
{
  echo "csq gpu check, $(($(date +%s) - START)) s in all$([ "$SOFTWARE" -eq 1 ] && echo ' (SwiftShader, shortened: mnist-cnn bench at batch 2, 32 tiny images)')"
  printf '%s\n' "${SUMMARY[@]}"
  grep -h '^csq trains on' "$OUT/doctor.txt" 2>/dev/null
  for f in "$OUT"/bench-*.txt; do
    [ -f "$f" ] || continue
    echo "$(basename "$f" .txt): $(grep -E '^(float step|csq step)' "$f" | sed 's/  */ /g' | paste -sd';') $(grep '^ratio' "$f")"
  done
  for d in "$OUT"/quickstart-*/; do
    [ -f "$d/summary.json" ] || continue
    node -e 'const s = require(process.argv[1]); console.log(`${process.argv[2]}: backend ${s.backend}, soft ${(100 * s.softAccuracy).toFixed(2)}%, exact ${(100 * s.exactAccuracy).toFixed(2)}%, ${s.wallSeconds.toFixed(1)} s`)' \
      "$d/summary.json" "$(basename "$d")"
  done
} | tee "$OUT/summary.txt" | tee -a "$LOG"
exit "$FAILED"
