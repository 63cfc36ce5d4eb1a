"""Leave-one-out ranking metrics: one relevant item per user."""
from __future__ import annotations

import numpy as np

KS = (5, 10)


def rank_of_target(topk: np.ndarray, target: np.ndarray) -> np.ndarray:
    """0-based rank of the target in each row of `topk` (B, K), or K where absent."""
    hit = topk == target[:, None]
    return np.where(hit.any(1), hit.argmax(1), topk.shape[1])


def ranking_metrics(topk: np.ndarray, target: np.ndarray, ks=KS) -> dict[str, float]:
    """Recall@k (= hit rate) and NDCG@k = 1/log2(rank+2) if rank < k."""
    return rank_metrics(rank_of_target(topk, target), ks)


def rank_metrics(rank: np.ndarray, ks=KS) -> dict[str, float]:
    """The same metrics from each user's 0-based target rank (absent: any rank >= k); NaN for no users."""
    rank = np.asarray(rank)
    if not len(rank):
        return {f"{m}@{k}": float("nan") for k in ks for m in ("recall", "ndcg")}
    out = {}
    for k in ks:
        hit = rank < k
        out[f"recall@{k}"] = float(hit.mean())
        out[f"ndcg@{k}"] = float(np.where(hit, 1.0 / np.log2(rank + 2), 0.0).mean())
    return out
