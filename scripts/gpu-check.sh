#!/usr/bin/env bash
# GPU check of the diffusion policy runtime, as one prepared script for a machine with an NVIDIA
# GPU: installs the CUDA build of ONNX Runtime (onnxruntime-gpu 1.31.1 with its CUDA 13 and
# cuDNN 9 libraries from PyPI) into .venv-gpu, builds embody with `--features cuda`, runs the
# golden tests on the CUDA execution provider (registered with error_on_failure: no silent CPU
# fallback), then `embody bench policy` on cuda and on cpu, and a short `embody train --device
# cuda` (the same network and export as on the CPU), a short `embody distill --device cuda`,
# and `embody policy serve --device cuda`
# answering two robots. Prints the figures; exits non-zero on the
# first failure.
#
#   scripts/gpu-check.sh            # on the GPU machine, from the repository root
set -euo pipefail
cd "$(dirname "$0")/.."
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv || true
py=${PYTHON:-python3}
[ -x .venv-gpu/bin/python ] || "$py" -m venv .venv-gpu
.venv-gpu/bin/pip install --quiet --disable-pip-version-check \
  "onnxruntime-gpu[cuda,cudnn]==1.31.1" torch==2.15.0 onnx==1.23.2 diffusers==0.42.1 numpy==2.4.6
capi=$(.venv-gpu/bin/python -c 'import onnxruntime, os; print(os.path.join(os.path.dirname(onnxruntime.__file__), "capi"))')
lib=$(ls "$capi"/libonnxruntime.so.1* | head -n1)
# The CUDA provider finds the pip-installed CUDA/cuDNN libraries through the nvidia packages.
site=$(.venv-gpu/bin/python -c 'import site; print(site.getsitepackages()[0])')
export LD_LIBRARY_PATH="$(ls -d "$site"/nvidia/*/lib 2>/dev/null | paste -sd:)${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export ORT_DYLIB_PATH="$lib" EMBODY_PYTHON="$PWD/.venv-gpu/bin/python" EMBODY_TEST_DEVICE=cuda
echo "gpu-check: ONNX Runtime $lib"
cargo build --release --features cuda
cargo test --release --features cuda -p embody-policies --test runtime
./target/release/embody bench policy --device cuda --json
./target/release/embody bench policy --device cpu --json
# Training on the GPU: a few demonstrations, 300 steps, exported and run once.
gpu_tmp=$(mktemp -d)
./target/release/embody record scenarios/table_clearing.toml --episodes 4 --seed 100000 --quiet --out "$gpu_tmp/demos"
./target/release/embody train "$gpu_tmp/demos" --out "$gpu_tmp/cuda_model" --device cuda --steps 300 --down-dims 32,64,128
grep -q '"device": "cuda"' "$gpu_tmp/cuda_model.json"
./target/release/embody run scenarios/table_clearing.toml --policy "diffusion:$gpu_tmp/cuda_model.json" --device cuda --json -q
# Distillation on the GPU (the fast sampler's model), and the shipped distilled model on cuda.
./target/release/embody distill policies/models/table_clearing.json "$gpu_tmp/demos" --out "$gpu_tmp/cuda_fast" --device cuda --steps 300 --pairs 4096
grep -q '"kind": "consistency"' "$gpu_tmp/cuda_fast.json"
./target/release/embody run scenarios/table_clearing.toml --policy "diffusion:$gpu_tmp/cuda_fast.json" --device cuda --json -q
./target/release/embody run scenarios/table_clearing.toml --policy diffusion:policies/models/table_clearing_consistency.json --device cuda --json -q
# The policy server on the GPU: its chunk latency as two robots' requests see it (round trip over
# DDS on loopback in a private namespace, and the server's compute time per request).
unshare -n bash -c "ip link set lo up multicast on; ip route add 224.0.0.0/4 dev lo
  ./target/release/embody policy serve policies/models/table_clearing.json --name gpu --device cuda --verbose-requests 2> '$gpu_tmp/server.err' &
  srv=\$!
  for seed in 0 1; do ./target/release/embody run scenarios/table_clearing.toml --policy remote:gpu --seed \$seed --json -q & done
  wait %2 %3; kill \$srv"
grep 'request' "$gpu_tmp/server.err" | awk '{ms=$5; s+=ms; n++} END {printf "gpu-check: server compute %.2f ms mean over %d requests\n", s/n, n}'
echo "gpu-check: done"
