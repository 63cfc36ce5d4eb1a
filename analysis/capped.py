"""Which finished runs ended at their step cap (`train.max_steps`) rather than by early stopping: their metric is
what the config reached within the cap, not trained out, and one whose kept checkpoint is its last validation was
still improving there. The report lists them, and marks them where they are a paradigm's best run."""
from __future__ import annotations

import pandas as pd

COLUMNS = ("train.max_steps", "steps", "best_step", "stopped_early")


def _num(v) -> float:
    try:
        return float(v)
    except (TypeError, ValueError):
        return float("nan")


def cap_state(row) -> str | None:
    """None for a run early stopping (or no cap) ended; 'rising' for one the cap ended with its kept checkpoint at
    its last validation; 'capped' for one the cap ended after its best, before patience ran out."""
    cap, steps, best, every = (_num(row.get(k)) for k in ("train.max_steps", "steps", "best_step", "train.eval_every"))
    early = row.get("stopped_early")
    if not cap > 0 or not steps >= cap or early is True or early == 1 or str(early).lower() == "true":
        return None
    if best == best and (every != every or best > steps - every):   # NaN-safe: best known, within the last interval
        return "rising"
    return "capped"


def capped_runs(df: pd.DataFrame) -> pd.DataFrame:
    """The runs a step cap ended, with a `cap_state` column ('rising' or 'capped')."""
    if df.empty or not all(c in df for c in COLUMNS):
        return df.iloc[0:0].assign(cap_state=pd.Series(dtype=str))
    state = df.apply(cap_state, axis=1)
    return df[state.notna()].assign(cap_state=state[state.notna()])


def capped_section(df: pd.DataFrame, metric: str) -> list[str]:
    from analysis.load import run_label

    runs = capped_runs(df)
    if runs.empty:
        return []
    lines = ["## Step-capped runs", "",
             "These runs reached `train.max_steps` before early stopping ended them: their numbers are what the config "
             "reached within the cap, not trained out (a lower bound where validation was still rising).", "",
             f"| run | cap | kept checkpoint | at the cap | {metric} |", "|---|---|---|---|---|"]
    for _, r in runs.sort_values(["paradigm", "run_id"]).iterrows():
        said = ("still improving: the kept checkpoint is the last validation" if r["cap_state"] == "rising"
                else "past its best, patience not yet run out")
        m = _num(r.get(metric))
        lines.append(f"| {r['run_id']} ({run_label(r)}) | {int(_num(r['train.max_steps']))} | "
                     f"step {int(_num(r['best_step']))} | {said} | {'' if m != m else f'{m:.4f}'} |")
    return lines + [""]
