"""Cold-start items (the 2025 study's Table 6): each paradigm's best run scored on the evaluation users whose target
was seen at most `eval.cold_max` times in training (each record's outcomes carry `target_train_count`), beside
most-popular on the same users, and the best runs paired on those users."""
from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.load import as_the_paradigms, run_label, with_outcomes
from analysis.outcomes import USER_KEYS, paired_diff, paired_values, per_user, read_outcomes, user_interval


def cold_outcomes(path, which: str, cold_max: int) -> dict[str, np.ndarray] | None:
    """A run's `which` outcomes restricted to its cold targets (None when the record predates the counts)."""
    o = read_outcomes(path).get(which)
    if o is None or "target_train_count" not in o:
        return None
    keep = o["target_train_count"] <= cold_max
    return {k: v[keep] for k, v in o.items()}


def cold_table(df: pd.DataFrame, metric: str = "test/recall@10") -> tuple[pd.DataFrame, dict]:
    """One row per paradigm's best run (by `metric` on all users): its metric on cold targets with the interval over
    those users, most-popular's there, and the cold users' count. Also returns each row's cold outcomes."""
    which, name = metric.split("/", 1)
    rows, cold = [], {}
    for par, g in as_the_paradigms(with_outcomes(df)).groupby("paradigm"):
        if metric not in g or g[metric].isna().all():
            continue
        r = g.loc[g[metric].astype(float).idxmax()]
        cmax = int(r.get("eval.cold_max", 5)) if pd.notna(r.get("eval.cold_max", 5)) else 5
        o = cold_outcomes(r["path"], which, cmax)
        if o is None:
            continue
        v, p = per_user(o["rank"], name), per_user(o["popular_rank"], name)
        (lo, hi), (plo, phi) = user_interval(v), user_interval(p)   # NaN on no cold users
        n_all = int(r.get(f"{which}/n_users", 0) or 0)
        rows.append({"paradigm": par, "run": run_label(r), "run_id": r["run_id"], "cold_max": cmax,
                     "cold users": len(v), "of users": n_all, metric: float(r[metric]),
                     f"cold {name}": float(v.mean()) if len(v) else np.nan, "lo": lo, "hi": hi,
                     f"cold popular {name}": float(p.mean()) if len(p) else np.nan, "popular lo": plo,
                     "popular hi": phi})
        cold[par] = (r, o)
    return pd.DataFrame(rows), cold


def cold_section(df: pd.DataFrame, metric: str) -> list[str]:
    """The report's section (empty where no record has the counts)."""
    if "/" not in metric or "popular/" in metric or "path" not in df:
        return []
    from scaling.paradigms import PARADIGMS

    which, name = metric.split("/", 1)
    t, cold = cold_table(df, metric)
    if t.empty:
        return []
    lines = ["## Cold-start items (the 2025 study's Table 6)", "",
             f"Each paradigm's best run (by `{metric}` on all users) on the users whose target was seen at most "
             f"`eval.cold_max` times in training, with the 95% interval over those users; most-popular on the same "
             "users. (`analysis.cold.cold_table`)", "",
             f"| paradigm | run | cold users (of all) | {name} on cold | most-popular on cold | {name} on all |",
             "|---|---|---|---|---|---|"]
    for _, r in t.iterrows():
        lines.append(f"| {PARADIGMS[r['paradigm']].title} | {r['run']} | {r['cold users']} (of {r['of users']}, "
                     f"<= {r['cold_max']}) | {r[f'cold {name}']:.4f} [{r['lo']:.4f}, {r['hi']:.4f}] | "
                     f"{r[f'cold popular {name}']:.4f} [{r['popular lo']:.4f}, {r['popular hi']:.4f}] | "
                     f"{r[metric]:.4f} |")
    lines.append("")
    for a, b in (("sidgr", "llmrs"), ("sasrec", "sidgr"), ("sasrec", "llmrs")):
        if not {a, b} <= set(cold):
            continue
        (ra, oa), (rb, ob) = cold[a], cold[b]
        if any(str(ra.get(k)) != str(rb.get(k)) for k in USER_KEYS):
            continue
        va, vb = paired_values({which: oa}, {which: ob}, name, which)   # matched by user index
        if not len(va):
            continue
        d, ci = paired_diff(va, vb)
        verdict = "not distinguishable" if ci[0] <= 0 <= ci[1] else "distinguishable"
        lines.append(f"- on cold targets, best {PARADIGMS[b].title} − best {PARADIGMS[a].title}: {d:+.4f} "
                     f"[{ci[0]:+.4f}, {ci[1]:+.4f}] on {len(va)} shared cold users: {verdict}")
    return lines + [""]
