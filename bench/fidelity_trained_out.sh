#!/usr/bin/env bash
# Issue #14's trained-out SID-GR runs on full Beauty (then Toys with the same config, no retuning): the small preset
# with no step limit, stopped by validation (NDCG@10 on 2,000 users every 500 steps, patience 5), tested on every
# user. Each run resumes from its checkpoint when the script is started again (a run takes hours on one CPU thread:
# ~3,440 steps an epoch of data.augment=all at ~850 examples/s); done runs are skipped.
#   bash bench/fidelity_trained_out.sh [RUNS_DIR] [extra overrides...]      (ROWS="combo" runs only that row)
# THREADS (default 1) torch threads per run. Records: RUNS_DIR/sidgr-*/ (copy them without ckpt/ to
# notebooks/results/fidelity to commit them).
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-runs-fidelity}; shift || true
# shellcheck source=bench/fidelity_rows.sh
source bench/fidelity_rows.sh
common=(model.preset=small train.eval_every=500 train.autocast=bfloat16 eval.valid_users=2000 "$@")
rows=(
  "combo|data.augment=all model.loss=level"
  "augment-all|data.augment=all"
  "combo-toys|data.augment=all model.loss=level data.dataset=toys"
)
run_rows "$RUNS"
