# Sourced by bench/fidelity_ablation.sh and bench/fidelity_trained_out.sh (issue #14): `run_rows RUNS_DIR` runs each
# "name|overrides" entry of the caller's `rows` with its `common` overrides, one `scaling.app run` after another;
# ROWS (e.g. "default augment-all") keeps only the rows it names. A done run is skipped and a killed one resumes from
# its checkpoint (runs are found by their config's id). THREADS (default 1): torch threads per run.
PY=${PYTHON:-.venv/bin/python}
export OMP_NUM_THREADS=${THREADS:-1} MKL_NUM_THREADS=${THREADS:-1}

run_rows() {
  local runs=$1 row name sw
  for row in "${rows[@]}"; do
    name=${row%%|*}; sw=${row#*|}
    if [ -n "${ROWS:-}" ] && [[ " $ROWS " != *" $name "* ]]; then continue; fi
    echo "== $name: $sw ($(date +%T))"
    # shellcheck disable=SC2086
    $PY -m scaling.app run --runs-dir "$runs" --quiet "${common[@]}" $sw
  done
}
