#!/bin/sh
# The GPU measurements of the benchmark, as two device commands of under 10 minutes each
# (bench/README.md, "On a GPU host"). Run from the project root on the GPU host with .gpu,
# dist-bench-gpu and the two model folders carried:
#   sh bench/gpu-run.sh 1 [PEAK]   PyTorch reference, Pokemon CNN with the WebGPU peers, the real models
#   sh bench/gpu-run.sh 2 [PEAK]   where the time goes (--profile), register vs tiled kernels, TF.js wasm
# PEAK: the GPU's fp32 TFLOPS (default 67, an H100 SXM). Results go to $OUT: one JSON report and one
# log per step. Each step has its own time cap; the Node benchmark rewrites its report after every
# row, so a step cut short keeps what it measured.
set -u
part=${1:?usage: sh bench/gpu-run.sh 1|2 [PEAK]}
peak=${2:-67}
out=${OUT:?set OUT to the folder for the results}
eval "$(.gpu/setup.sh)"

step() {
  cap=$1
  name=$2
  shift 2
  echo "== $name (at most ${cap} s)"
  timeout "$cap" "$@" > "$out/$name.log" 2>&1
  echo "   exit $?"
  tail -n 30 "$out/$name.log"
}

bench="node dist-bench-gpu/bench.js --peak $peak"

case $part in
  1)
    nvidia-smi > "$out/nvidia-smi.txt" 2>&1
    step 120 pytorch python3 bench/reference/pytorch_reference.py --peak "$peak" --out "$out/pytorch.json"
    step 270 pokemon $bench --models pokemon --peers tfjs-webgpu,jax-webgpu --out "$out/pokemon.json"
    step 150 real-models $bench --models antispoof,emotion,mobilenetv2 --peers tfjs-webgpu --out "$out/real-models.json"
    ;;
  2)
    step 150 pokemon-profile $bench --models pokemon --methods saliency,smoothgrad,ig,occlusion --peers none --profile --out "$out/pokemon-profile.json"
    step 150 pokemon-register $bench --models pokemon --methods saliency,smoothgrad,ig,occlusion --peers none --kernels register --out "$out/pokemon-register.json"
    step 240 pokemon-wasm $bench --models pokemon --methods saliency,smoothgrad,ig --peers tfjs-wasm --warmup 0 --min-repeats 1 --budget-ms 1 --out "$out/pokemon-wasm.json"
    ;;
  *)
    echo "part must be 1 or 2" >&2
    exit 2
    ;;
esac
