"""Published SID-GR figures to hold runs against (GRID, TIGER), and the comparison.

The figures are the papers' own, copied from ../shared/references.md (Amazon 2014 5-core, leave-one-out,
test set; GRID: mean of 5 seeds, Flan-T5-XL embeddings of title, categories, description and price). A run is
set beside a figure only when it was run on the whole dataset (no `data.max_users` / `data.max_items` subset)
with the settings the figure names; the comparison gives the run's 95% interval over its evaluation users and
says whether the published figure lies inside it.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Reference:
    source: str
    dataset: str
    setting: str
    recall5: float
    recall10: float
    ndcg5: float
    ndcg10: float
    match: dict = field(default_factory=dict)    # run-config keys a run must have to be compared with it

    def value(self, metric: str) -> float:
        return {"recall@5": self.recall5, "recall@10": self.recall10, "ndcg@5": self.ndcg5,
                "ndcg@10": self.ndcg10}[metric]


RKM = {"tokenizer.kind": "rkmeans", "tokenizer.levels": 3, "tokenizer.width": 256}
ENCDEC = {"model.arch": "encdec", "eval.constrained": True, "tokenizer.dedup": "digit"}

REFERENCES = [
    # GRID Table 1: tokenizers (RK-Means / R-VQ / RQ-VAE at 3x256)
    Reference("GRID Table 1", "beauty", "RK-Means 3x256", 0.0422, 0.0639, 0.0277, 0.0347, {**RKM, **ENCDEC}),
    Reference("GRID Table 1", "toys", "RK-Means 3x256", 0.0376, 0.0577, 0.0243, 0.0308, {**RKM, **ENCDEC}),
    Reference("GRID Table 1", "sports", "RK-Means 3x256", 0.0236, 0.0353, 0.0153, 0.0191, {**RKM, **ENCDEC}),
    Reference("GRID Table 1", "beauty", "R-VQ 3x256", 0.0422, 0.0638, 0.0282, 0.0351,
              {"tokenizer.kind": "rvq", "tokenizer.levels": 3, "tokenizer.width": 256, **ENCDEC}),
    Reference("GRID Table 1", "beauty", "RQ-VAE 3x256", 0.0404, 0.0593, 0.0268, 0.0329,
              {"tokenizer.kind": "rqvae", "tokenizer.levels": 3, "tokenizer.width": 256, **ENCDEC}),
    # GRID Table 3: RK-Means L x W on Beauty
    *[Reference("GRID Table 3", "beauty", f"RK-Means {lv}x{w}", r5, r10, n5, n10,
                {"tokenizer.kind": "rkmeans", "tokenizer.levels": lv, "tokenizer.width": w, **ENCDEC})
      for lv, w, r5, r10, n5, n10 in [(3, 128, 0.0412, 0.0617, 0.0273, 0.0339), (3, 512, 0.0415, 0.0631, 0.0273, 0.0342),
                                      (2, 256, 0.0403, 0.0618, 0.0264, 0.0333), (4, 256, 0.0405, 0.0609, 0.0265, 0.0331),
                                      (5, 256, 0.0396, 0.0596, 0.0257, 0.0321)]],
    # GRID Tables 5-8: recommender ablations (default: enc-dec, sliding window, de-dup, constrained)
    Reference("GRID Tables 5-8", "beauty", "default (sliding window)", 0.0396, 0.0597, 0.0264, 0.0328,
              {**RKM, **ENCDEC, "data.augment": "all"}),
    Reference("GRID Tables 5-8", "toys", "default (sliding window)", 0.0357, 0.0548, 0.0226, 0.0287,
              {**RKM, **ENCDEC, "data.augment": "all"}),
    Reference("GRID Tables 5-8", "sports", "default (sliding window)", 0.0192, 0.0290, 0.0124, 0.0156,
              {**RKM, **ENCDEC, "data.augment": "all"}),
    Reference("GRID Tables 5-8", "beauty", "no augmentation", 0.0279, 0.0447, 0.0171, 0.0226,
              {**RKM, **ENCDEC, "data.augment": "prefix"}),
    Reference("GRID Tables 5-8", "toys", "no augmentation", 0.0277, 0.0442, 0.0173, 0.0226,
              {**RKM, **ENCDEC, "data.augment": "prefix"}),
    Reference("GRID Tables 5-8", "beauty", "decoder-only", 0.0300, 0.0438, 0.0206, 0.0251,
              {**RKM, "model.arch": "decoder", "eval.constrained": True}),
    Reference("GRID Tables 5-8", "beauty", "no de-dup", 0.0381, 0.0591, 0.0253, 0.0321,
              {**RKM, "model.arch": "encdec", "eval.constrained": True, "tokenizer.dedup": "none"}),
    Reference("GRID Tables 5-8", "beauty", "free-form beam", 0.0405, 0.0609, 0.0268, 0.0334,
              {**RKM, "model.arch": "encdec", "tokenizer.dedup": "digit", "eval.constrained": False}),
    # TIGER (RQ-VAE SIDs from Sentence-T5)
    Reference("TIGER", "beauty", "RQ-VAE (TIGER)", float("nan"), 0.0648, float("nan"), 0.0384,
              {"tokenizer.kind": "rqvae", "model.arch": "encdec"}),
]


def references(dataset: str | None = None) -> pd.DataFrame:
    """The published figures as a table (one row per figure)."""
    rows = [{"source": r.source, "dataset": r.dataset, "setting": r.setting, "recall@5": r.recall5,
             "recall@10": r.recall10, "ndcg@5": r.ndcg5, "ndcg@10": r.ndcg10} for r in REFERENCES]
    df = pd.DataFrame(rows)
    return df[df["dataset"] == dataset] if dataset else df


def _matches(run: pd.Series, ref: Reference) -> bool:
    if str(run.get("data.dataset")) != ref.dataset:
        return False
    if int(run.get("data.max_users", 0) or 0) or int(run.get("data.max_items", 0) or 0):
        return False      # a subset is not the dataset the papers report on
    return all(_same(run.get(k), v) for k, v in ref.match.items())


def _same(have, want) -> bool:
    if have is None or (isinstance(have, float) and np.isnan(have)):
        return False
    if isinstance(want, bool):
        return (have.lower() == "true") if isinstance(have, str) else bool(have) == want
    try:
        return type(want)(have) == want
    except (TypeError, ValueError):
        return False


def beside_references(df: pd.DataFrame, metric: str = "recall@10") -> pd.DataFrame:
    """Every finished SID-GR run on a whole dataset beside each published figure with its settings: the run's
    test metric, its 95% interval over its evaluation users, how many users, the figure, run / figure, and
    whether the figure lies inside the run's interval."""
    rows = []
    sid = df[df.get("paradigm", pd.Series(dtype=str)) == "sidgr"] if len(df) else df
    for _, run in sid.iterrows():
        col = f"test/{metric}"
        if col not in run or pd.isna(run[col]):
            continue
        for ref in REFERENCES:
            if not _matches(run, ref) or np.isnan(ref.value(metric)):
                continue
            lo, hi = run.get(f"{col}.lo", np.nan), run.get(f"{col}.hi", np.nan)
            pub = ref.value(metric)
            rows.append({"run_id": run["run_id"], "preset": run.get("model.preset"), "dataset": ref.dataset, "reference": f"{ref.source}: {ref.setting}",
                         metric: float(run[col]), "lo": lo, "hi": hi, "users": run.get("test/n_users", np.nan),
                         "published": pub, "ratio": float(run[col]) / pub,
                         "inside": bool(lo <= pub <= hi) if not (pd.isna(lo) or pd.isna(hi)) else None})
    return pd.DataFrame(rows, columns=["run_id", "preset", "dataset", "reference", metric, "lo", "hi", "users", "published",
                                       "ratio", "inside"])


def describe(table: pd.DataFrame, metric: str = "recall@10") -> list[str]:
    """One line per comparison, for the CLI and the report."""
    out = []
    for _, r in table.iterrows():
        where = ("inside" if r["inside"] else "outside") if r["inside"] is not None else "no interval for"
        users = f"{int(r['users']):,} users" if not pd.isna(r["users"]) else "users unknown"
        out.append(f"{r['run_id']} ({r['dataset']}, preset {r['preset']}): test {metric} {r[metric]:.4f} [{r['lo']:.4f}, {r['hi']:.4f}] on "
                   f"{users} vs {r['reference']} {r['published']:.4f} (x{r['ratio']:.2f}; the figure is {where} "
                   "the run's interval)")
    return out
