"""Title ids from the title beam search mapped back to items.

Items that share a title are all recommended where that title is: in order of their training
popularity, each taking one of the k slots (so a shared title can push later titles out of the top-k).
"""
from __future__ import annotations

import numpy as np


class TitleItems:
    """Title id -> its items, most popular first (CSR)."""

    def __init__(self, item_title: np.ndarray, popularity: np.ndarray):
        order = np.lexsort((-popularity, item_title))
        self.items = order
        counts = np.bincount(item_title, minlength=int(item_title.max()) + 1)
        self.start = np.cumsum(counts) - counts
        self.count = counts

    def expand(self, titles: np.ndarray, k: int) -> np.ndarray:
        """(B, K) title ids (-1 = invalid) -> (B, k) item ids (-1 = invalid / none)."""
        b, kt = titles.shape
        t = titles.ravel()
        cnt = np.where(t >= 0, self.count[np.maximum(t, 0)], 1)
        row = np.repeat(np.repeat(np.arange(b), kt), cnt)
        first = np.repeat(np.cumsum(cnt) - cnt, cnt)
        src = np.repeat(np.where(t >= 0, self.start[np.maximum(t, 0)], 0), cnt) + np.arange(cnt.sum()) - first
        item = np.where(np.repeat(t, cnt) >= 0, self.items[np.minimum(src, len(self.items) - 1)], -1)
        per_row = np.bincount(row, minlength=b)
        rank = np.arange(len(row)) - (np.cumsum(per_row) - per_row)[row]
        keep = rank < k
        out = np.full((b, k), -1, dtype=np.int64)
        out[row[keep], rank[keep]] = item[keep]
        return out
