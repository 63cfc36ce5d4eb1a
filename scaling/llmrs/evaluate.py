"""Top-k recommendation by title beam search, titles mapped back to items, and the shared metrics.

Items that share a title are all recommended where that title is: in order of their training
popularity, each taking one of the k slots (so a shared title can push later titles out of the top-k).
"""
from __future__ import annotations

import numpy as np
import torch
from tqdm.auto import tqdm

from scaling.data.split import Examples
from scaling.llmrs.batching import LLMBatcher
from scaling.llmrs.beam import title_beam_search
from scaling.llmrs.trie import TitleTrie
from scaling.metrics import ranking_metrics


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


def recommend(model, batcher: LLMBatcher, trie: TitleTrie, title_items: TitleItems, ex: Examples, beam_size: int,
              constrained: bool, batch_size: int, progress: bool = False, desc: str = "decode") -> np.ndarray:
    was_training = model.training
    model.eval()
    lengths = batcher.prompt_lengths(ex)
    order = np.argsort(-lengths, kind="stable")   # similar prompt lengths together: less padding
    out = np.full((len(ex), beam_size), -1, dtype=np.int64)
    for s in tqdm(range(0, len(ex), batch_size), desc=desc, unit="batch", disable=not progress, leave=False):
        idx = order[s:s + batch_size]
        ids, mask = batcher.prompts(ex, idx)
        beams = title_beam_search(model, ids, mask, trie, batcher.p.eos, beam_size, constrained)
        out[idx] = title_items.expand(beams.titles.numpy(), beam_size)
    model.train(was_training)
    return out


def evaluate(model, batcher: LLMBatcher, trie: TitleTrie, title_items: TitleItems, ex: Examples, beam_size: int,
             constrained: bool, batch_size: int, progress: bool = False, desc: str = "decode") -> dict:
    with torch.inference_mode():
        top = recommend(model, batcher, trie, title_items, ex, beam_size, constrained, batch_size, progress, desc)
    m = ranking_metrics(top, ex.target)
    m["invalid_rate"] = float((top < 0).mean())
    return m
