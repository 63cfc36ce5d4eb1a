"""SIDs as the LLM's items (the 2025 study's Table 5): each LLM-as-RS run reading and writing SIDs
(`llm.item_repr=sid`) paired on shared users with its title twin (the same LLM, LoRA, training and data, reading
titles) and with the best SID-GR run on the same SIDs (same encoder and tokenizer): what the LLM gains from the SIDs,
and what it adds over a small recommender on them."""
from __future__ import annotations

import pandas as pd

from analysis.load import reads_sids, run_label, with_outcomes

SIDS = ("encoder.", "tokenizer.")     # what decides a run's SIDs
NOT_TWIN = ("llm.item_repr",)          # what a title twin differs in (titles read no encoder or tokenizer)


def _same(a, b, cols) -> bool:
    return all(str(a.get(c)) == str(b.get(c)) for c in cols)


def title_twin(df: pd.DataFrame, r) -> pd.Series | None:
    """The title run with r's config but for its items (every llm/train/data/eval key and the seed equal)."""
    cols = [c for c in df.columns if c.startswith(("llm.", "train.", "data.", "eval.")) and c not in NOT_TWIN
            and "/" not in c] + ["seed"]
    titles = df[(df["paradigm"] == "llmrs") & ~reads_sids(df)]
    hits = [t for _, t in titles.iterrows() if _same(t, r, [c for c in cols if c in df])]
    return hits[0] if hits else None


def same_sids_sidgr(df: pd.DataFrame, r, metric: str) -> pd.Series | None:
    """The best SID-GR run built on the same SIDs as r (every encoder and tokenizer key equal)."""
    cols = [c for c in df.columns if c.startswith(SIDS) and "/" not in c]
    g = df[df["paradigm"] == "sidgr"]
    g = g[[_same(s, r, cols) for _, s in g.iterrows()]]
    if g.empty or metric not in g or g[metric].isna().all():
        return None
    return g.loc[g[metric].astype(float).idxmax()]


def sid_llm_section(df: pd.DataFrame, metric: str) -> list[str]:
    from analysis.outcomes import compare_runs

    if "/" not in metric or "popular/" in metric or "path" not in df:
        return []
    df = with_outcomes(df)
    sids = df[reads_sids(df)] if len(df) else df
    if sids.empty:
        return []
    which, name = metric.split("/", 1)
    lines = ["## SIDs as the LLM's items (the 2025 study's Table 5)", "",
             f"Each LLM-as-RS run reading SIDs, paired on shared users (`{metric}`, 95% paired bootstrap) with the same "
             "LLM, LoRA and training reading titles, and with the best SID-GR run on the same SIDs. "
             "(`analysis.sid_llm`)", ""]
    for _, r in sids.sort_values("run_id").iterrows():
        inv = r.get(f"{which}/invalid_rate")
        lines.append(f"- {r['run_id']} ({run_label(r)}): {float(r[metric]):.4f}"
                     + (f", invalid rate {float(inv):.3g}" if inv is not None and inv == inv else ""))
        for what, other in (("its title twin", title_twin(df, r)), ("SID-GR on the same SIDs",
                                                                     same_sids_sidgr(df, r, metric))):
            if other is None:
                lines.append(f"  - vs {what}: none among these runs")
                continue
            p = compare_runs(other["path"], r["path"], name, which, other.to_dict(), r.to_dict())
            lines.append(f"  - vs {what} ({other['run_id']}, {run_label(other)}): {p.describe()}")
    return lines + [""]
