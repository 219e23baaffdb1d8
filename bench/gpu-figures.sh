#!/usr/bin/env bash
# GPU figures: the engine on WebGPU (Dawn, in Node) against the same model and step in PyTorch on CUDA (fp32,
# TF32 off), gpt-small and gpt-medium, written to bench/RESULTS.md with the machine's name.
#
# The GPU machine has python3 with torch but no Node, so the figures take two steps:
#   here, after `npm run build`:     bash bench/gpu-figures.sh pack
#     -> bench/gpu-kit.tar.xz (git ignores it): this machine's node, the built CLI, its WASM files and the
#        webgpu package's Linux addon, about 40 MB
#   there, in a copy of this tree with the kit carried along:   bash bench/gpu-figures.sh run
#     -> bench/RESULTS.md (and $OUT/RESULTS.md where $OUT is set), the bench's JSON beside it
# GPU_FIGURES_QUICK=1 runs gpt-small only, one step a round, one round: to check the script where there is
# no GPU (with VK_ICD_FILENAMES pointing at a software Vulkan driver the bench then runs on SwiftShader).
set -euo pipefail
cd "$(dirname "$0")/.."
kit=bench/gpu-kit.tar.xz

case "${1:-}" in
  pack)
    [ -f dist/cli/isoflop.js ] || { echo "gpu-figures: build first (npm run build)" >&2; exit 1; }
    stage=$(mktemp -d)
    trap 'rm -rf "$stage"' EXIT
    mkdir -p "$stage/bin" "$stage/dist" "$stage/bench" "$stage/node_modules/webgpu/dist"
    cp "$(command -v node)" "$stage/node"
    cp bin/isoflop.js "$stage/bin/"
    cp package.json "$stage/"
    cp -r dist/cli dist/wasm "$stage/dist/"
    cp bench/torch_gpt.py "$stage/bench/"
    cp node_modules/webgpu/index.js node_modules/webgpu/package.json "$stage/node_modules/webgpu/"
    cp -r node_modules/webgpu/dist/linux-x64 "$stage/node_modules/webgpu/dist/"
    tar -C "$stage" -cf - . | xz -T0 -6 > "$kit"
    echo "gpu-figures: $kit, $(du -h "$kit" | cut -f1); carry it to the GPU machine and run: bash bench/gpu-figures.sh run"
    ;;
  run)
    [ -f "$kit" ] || { echo "gpu-figures: $kit is missing: run 'bash bench/gpu-figures.sh pack' where Node is" >&2; exit 1; }
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
    xz -dc "$kit" | tar -C "$work" -xf -
    export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-$work}"
    results=bench/results
    mkdir -p "$results"
    models="gpt-small gpt-medium"
    extra=()
    if [ "${GPU_FIGURES_QUICK:-}" = 1 ]; then models=gpt-small; extra=(--steps 1 --rounds 1); fi
    for model in $models; do
      echo "gpu-figures: $model on webgpu against PyTorch..." >&2
      (cd "$work" && ./node bin/isoflop.js bench --vs-torch --backend webgpu --model "$model" "${extra[@]}" --json) \
        > "$results/$model.json"
    done
    machine=$( (nvidia-smi --query-gpu=name,driver_version --format=csv,noheader 2>/dev/null || echo "no NVIDIA GPU") | head -1)
    cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
    python3 - "$machine" "$cpu" $models > bench/RESULTS.md <<'PY'
import json, sys, datetime
machine, cpu, models = sys.argv[1], sys.argv[2], sys.argv[3:]
print("# GPU figures\n")
print(f"Machine: {machine}; CPU {cpu}. Measured {datetime.date.today()} with `bash bench/gpu-figures.sh run`: the")
print("engine on WebGPU through Dawn in Node, PyTorch on the GPU in fp32 with TF32 off, the same model and step")
print("(bench/torch_gpt.py), alternating rounds, each side's fastest round.\n")
print("| model | parameters | engine tokens/s | on | PyTorch tokens/s | on | engine / PyTorch |")
print("| --- | --- | --- | --- | --- | --- | --- |")
for model in models:
    # Dawn writes its drivers' messages to stdout too: the bench's JSON is what follows the last line "{".
    text = open(f"bench/results/{model}.json").read()
    r = json.loads(text[text.rindex("\n{\n") + 1:] if not text.startswith("{\n") else text)
    e, t = r["engine"], r.get("torch")
    ratio = f"{r['ratio']:.3f}x" if r.get("ratio") is not None else "not measured"
    print(f"| {model} | {e['params'] / 1e6:.2f}M | {e['tokensPerSec']:.0f} | {e['backend']} | "
          f"{t['tokensPerSec']:.0f} | {t['device']} (torch {t['torch']}) | {ratio} |" if t else
          f"| {model} | {e['params'] / 1e6:.2f}M | {e['tokensPerSec']:.0f} | {e['backend']} | - | {r.get('torchMissing')} | - |")
PY
    cat bench/RESULTS.md
    if [ -n "${OUT:-}" ]; then cp bench/RESULTS.md "$results"/*.json "$OUT/"; fi
    ;;
  *)
    echo "usage: bash bench/gpu-figures.sh pack|run" >&2
    exit 2
    ;;
esac
