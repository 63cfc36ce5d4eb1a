"""The SID-GR fidelity ablation as one table (issue #14): every SID-GR record of a results directory, what it
switches relative to the recipe SID-GR had before the issue ("old default": prefix examples, whole-vocabulary
loss, plain RK-Means, NDCG@10 selection), test Recall@10 / NDCG@10 with the 95% interval over its users, and the
paired difference against the baseline on the users both were scored on. `gr-scaling fidelity RESULTS` prints it.
"""
from __future__ import annotations

import pandas as pd

import scaling.config as config

# Each switch's value before the issue: the legacy value left out of run ids (HASHED_WHEN_SET)
SWITCHES = {k: config.HASHED_WHEN_SET[k] for k in ("data.augment", "tokenizer.normalize", "train.select_metric",
                                                           "model.loss")}
BASE = "old default"
_NOW = config.flatten(config.load().to_dict())
TODAY = [f"{k}={_NOW[k]}" for k, v in SWITCHES.items() if str(_NOW[k]) != str(v)]   # the switches today's defaults set


def switched(row) -> str:
    """The GRID-recipe switches a run sets away from the old default (a record older than a switch has no value
    for it, i.e. ran with its legacy value); "(today's default)" marks the set the defaults now have."""
    on = [f"{k}={row[k]}" for k, default in SWITCHES.items()
          if k in row and not pd.isna(row[k]) and str(row[k]) != str(default)]
    return (", ".join(on) + (" (today's default)" if on == TODAY else "")) if on else BASE


def budget(row) -> str:
    """What ended a run: its step limit, or validation alone (early stop)."""
    return f"{int(row['train.max_steps'])} steps" if row["train.max_steps"] else "early stop"


def table(results: str, baseline: str | None = None, metric: str = "recall@10") -> str:
    from analysis.load import load_runs
    from analysis.outcomes import compare_runs

    df = load_runs(results)
    df = df[df["paradigm"] == "sidgr"].copy()
    df["switches"] = [switched(r) for _, r in df.iterrows()]
    df["budget"] = [budget(r) for _, r in df.iterrows()]
    defaults = df[df["switches"] == BASE]
    lines = ["| switches | budget | seed | preset | steps (best) | test R@10 [95% CI] | test N@10 | users | "
             f"vs {BASE} (same seed and budget), paired |", "|---|---|---|---|---|---|---|---|---|"]
    df = df.sort_values(["budget", "switches", "seed"],
                        key=lambda s: s.map(lambda v: (v != BASE, v)) if s.name == "switches" else s)
    fixed = df[df["run_id"] == baseline].iloc[0] if baseline else None
    for _, r in df.iterrows():
        same = defaults[(defaults["seed"] == r["seed"]) & (defaults["budget"] == r["budget"])]
        base = fixed if fixed is not None else (same.iloc[0] if len(same) else None)
        if base is None or r["run_id"] == base["run_id"]:
            paired = "—"
        else:
            p = compare_runs(base["path"], r["path"], metric)
            verdict = "" if p.distinguishable else ", not distinguishable"
            paired = f"{p.diff:+.4f} [{p.ci[0]:+.4f}, {p.ci[1]:+.4f}]{verdict}"
        lines.append(f"| {r['switches']} | {r['budget']} | {int(r['seed'])} | {r['model.preset']} | {int(r['steps'])} ({int(r['best_step'])}) | "
                     f"{r[f'test/{metric}']:.4f} [{r[f'test/{metric}.lo']:.4f}, {r[f'test/{metric}.hi']:.4f}] | "
                     f"{r['test/ndcg@10']:.4f} | {int(r['test/n_users']):,} | {paired} |")
    seeds = df.groupby(["switches", "budget"], sort=False)[f"test/{metric}"].agg(["mean", "std", "count"])
    lines += ["", "| switches | budget | seeds | test R@10 mean ± sd |", "|---|---|---|---|"]
    for (name, bud), g in seeds.iterrows():
        sd = f" ± {g['std']:.4f}" if g["count"] > 1 else ""
        lines.append(f"| {name} | {bud} | {int(g['count'])} | {g['mean']:.4f}{sd} |")
    return "\n".join(lines)
