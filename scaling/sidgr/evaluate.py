"""Top-k recommendation for a set of examples by batched beam search, and its metrics."""
from __future__ import annotations

import numpy as np
import torch
from tqdm.auto import tqdm

from scaling.data.split import Examples
from scaling.metrics import ranking_metrics
from scaling.sidgr.batching import SIDBatcher
from scaling.sidgr.beam import beam_search
from scaling.sidgr.trie import SIDTrie


def recommend(model, batcher: SIDBatcher, trie: SIDTrie, ex: Examples, beam_size: int, constrained: bool,
              batch_size: int, desc: str = "decode", progress: bool = False) -> np.ndarray:
    """(n, beam_size) item indices per example, best first (-1 where a generated SID is no item)."""
    was_training = model.training
    model.eval()
    order = np.argsort(-ex.lengths, kind="stable")   # similar lengths together: less padding
    out = np.full((len(ex), beam_size), -1, dtype=np.int64)
    for s in tqdm(range(0, len(ex), batch_size), desc=desc, unit="batch", disable=not progress, leave=False):
        idx = order[s:s + batch_size]
        ids, mask = batcher.history_tokens(ex.history[idx], ex.user[idx])
        res = beam_search(model, batcher.arch, ids, mask, batcher.layout, trie, beam_size, constrained)
        out[idx, : res.items.shape[1]] = res.items.numpy()
    model.train(was_training)
    return out


def evaluate(model, batcher: SIDBatcher, trie: SIDTrie, ex: Examples, beam_size: int, constrained: bool,
             batch_size: int, progress: bool = False, desc: str = "decode") -> dict:
    with torch.inference_mode():
        top = recommend(model, batcher, trie, ex, beam_size, constrained, batch_size, desc, progress)
    m = ranking_metrics(top, ex.target)
    m["invalid_rate"] = float((top < 0).mean())
    return m
