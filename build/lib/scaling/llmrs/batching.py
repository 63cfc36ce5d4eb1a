"""Examples -> LLM inputs.

A training row is laid out as ``[left pad | prompt | target | right pad]``: prompts are left-padded so
they all end at one column, targets start right after it. The model is then asked for logits of only
the last `target_len + 1` positions (`logits_to_keep`), so the LM head — 49k-262k vocabulary rows,
as costly as the whole body for Gemma 3 270M — never runs over prompt tokens, and the loss is on the
target tokens only (labels -100 elsewhere). Position ids follow the attention mask, so a left-padded
row sees the same positions it would alone.
"""
from __future__ import annotations

import numpy as np
import torch

from scaling.data.split import Examples
from scaling.llmrs.prompts import Prompts

IGNORE = -100


class LLMBatcher:
    def __init__(self, prompts: Prompts):
        self.p = prompts

    def prompt_lengths(self, ex: Examples) -> np.ndarray:
        ln = np.where(ex.history >= 0, self.p.line_len[np.maximum(ex.history, 0)], 0)
        return ln.sum(1) + len(self.p.head) + len(self.p.tail)

    def prompts(self, ex: Examples, idx: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        """Left-padded prompt ids and attention mask for the examples `idx`."""
        rows = [self.p.prompt(ex.history[i]) for i in idx]
        width = max(len(r) for r in rows)
        ids = torch.full((len(rows), width), self.p.pad, dtype=torch.long)
        mask = torch.zeros((len(rows), width), dtype=torch.long)
        for j, r in enumerate(rows):
            ids[j, width - len(r):] = torch.tensor(r)
            mask[j, width - len(r):] = 1
        return ids, mask

    def train_batch(self, ex: Examples, idx: np.ndarray) -> dict:
        ids, mask = self.prompts(ex, idx)
        targets = [self.p.target(int(ex.target[i])) for i in idx]
        t_len = max(len(t) for t in targets)
        tgt = torch.full((len(idx), t_len), self.p.pad, dtype=torch.long)
        tmask = torch.zeros((len(idx), t_len), dtype=torch.long)
        labels = torch.full((len(idx), t_len + 1), IGNORE, dtype=torch.long)   # + the last prompt column
        for j, t in enumerate(targets):
            tgt[j, : len(t)] = torch.tensor(t)
            tmask[j, : len(t)] = 1
            labels[j, 1: len(t) + 1] = torch.tensor(t)
        input_ids = torch.cat([ids, tgt], 1)
        attention_mask = torch.cat([mask, tmask], 1)
        position_ids = (attention_mask.cumsum(1) - 1).clamp(min=0)
        # Positions as a tensor, not the int `t_len + 1`: transformers slices with an int as a strided view,
        # and torch's matmul of a non-contiguous (B, k, d) by the (d, V) head expands the head to
        # (B, d, V) first — a 2.7 GB copy per step for Gemma 3 (75% of its step time). Indexing with a
        # tensor gives a contiguous slice and one plain matmul.
        keep = torch.arange(input_ids.shape[1] - t_len - 1, input_ids.shape[1])
        return {"input_ids": input_ids, "attention_mask": attention_mask, "position_ids": position_ids,
                "labels": labels, "logits_to_keep": keep}
