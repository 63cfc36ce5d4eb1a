#!/usr/bin/env bash
# The SID-GR fidelity ablation (issue #14) on full Beauty, one row after another, each resumable:
# starting the script again skips done rows and resumes a killed one from its checkpoint.
#   bash bench/fidelity_ablation.sh [RUNS_DIR] [extra overrides...]
# Budget per row: STEPS (default 3000 steps of 256), validation on 2,000 users every 500 steps,
# final validation/test decode on the first 5,000 users of the fixed permutation (paired across rows).
# THREADS (default 1) torch threads per run; ROWS (e.g. "default augment-all") runs only those rows. Records:
# RUNS_DIR/sidgr-*/ (copy them without ckpt/ to notebooks/results/ to commit them).
# The rows are switches on the recipe SID-GR had before this issue (prefix examples, whole-vocabulary loss), pinned
# in `common`: the defaults have since become data.augment=all model.loss=level, which the "default" row is not.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-runs-fidelity}; shift || true
# shellcheck source=bench/fidelity_rows.sh
source bench/fidelity_rows.sh
common=(model.preset=small train.max_steps=${STEPS:-3000} train.eval_every=500 train.autocast=bfloat16
        eval.valid_users=2000 eval.test_users=5000 data.augment=prefix model.loss=vocab "$@")
rows=(
  "default|"
  "grid-recipe|data.augment=all tokenizer.normalize=true train.select_metric=recall@10"
  "augment-all|data.augment=all"
  "normalize|tokenizer.normalize=true"
  "level-loss|model.loss=level"
)
run_rows "$RUNS"
