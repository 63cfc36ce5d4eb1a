#!/usr/bin/env bash
# The GPU check, as one short job (<= 8 minutes on one H100/H200): full-Beauty SID-GR small + grid packed on
# the GPU, LLM-as-RS LoRA train + constrained decode on a random SmolLM2-shaped model, 2-rank DDP when there
# are 2 GPUs; one table. Needs .device-data/ (python bench/prepare_device_data.py, on a CPU machine with the
# packages) carried beside the tree; imports run from the source tree (no install, no submitit, no gguf).
#   bash bench/device_check.sh            # results under $OUT (the device tool's), else /tmp/device-check
#   bash bench/device_check.sh --quick    # the same path at tiny sizes (a CPU smoke test)
#   PYTHON=.venv/bin/python bash bench/device_check.sh ...   # another interpreter than `python` on PATH
set -uo pipefail
cd "$(dirname "$0")/.."
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv 2>/dev/null || echo "no nvidia-smi"
exec "${PYTHON:-python}" bench/device_check.py --out "${OUT:-/tmp/device-check}" "$@"
