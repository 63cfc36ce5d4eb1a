"""Examples -> model inputs. SID tokens of every item are computed once (`item_tokens`); a batch is a
gather from that table. Batches are trimmed to their own longest history and, in training, grouped
by length (as HF's group_by_length), so little compute goes to padding."""
from __future__ import annotations

import numpy as np
import torch

from scaling.data.split import Examples
from scaling.sidgr.model import BOS, PAD, TokenLayout


class SIDBatcher:
    def __init__(self, item_tokens: torch.Tensor, layout: TokenLayout, arch: str, pad_to_full: bool = False):
        self.item_tokens = item_tokens          # (n_items, L')
        self.layout = layout
        self.arch = arch
        self.pad_to_full = pad_to_full          # the naive baseline: every batch padded to max_history

    def history_tokens(self, history: np.ndarray, users: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        """Left-padded token ids and attention mask for (B, H) item histories (-1 = padding)."""
        h = torch.from_numpy(history)
        if not self.pad_to_full:
            longest = int((h >= 0).sum(1).max())
            h = h[:, h.shape[1] - longest:]
        valid = h >= 0
        tok = self.item_tokens[h.clamp(min=0)]                       # (B, H_b, L')
        tok = tok.masked_fill(~valid[..., None], PAD).flatten(1)
        mask = valid[..., None].expand(-1, -1, self.item_tokens.shape[1]).flatten(1)
        if self.layout.n_user_buckets:
            u = self.layout.user_token(torch.from_numpy(users))[:, None]
            tok, mask = torch.cat([u, tok], 1), torch.cat([torch.ones_like(u, dtype=torch.bool), mask], 1)
        return tok, mask.long()

    def train_batch(self, ex: Examples, idx: np.ndarray) -> dict:
        tok, mask = self.history_tokens(ex.history[idx], ex.user[idx])
        target = self.item_tokens[torch.from_numpy(ex.target[idx])]
        if self.arch == "encdec":
            return {"input_ids": tok, "attention_mask": mask, "labels": target}
        bos = torch.full((len(idx), 1), BOS)
        ids = torch.cat([tok, bos, target], 1)
        mask = torch.cat([mask, torch.ones(len(idx), 1 + target.shape[1], dtype=mask.dtype)], 1)
        labels = torch.cat([torch.full_like(tok, -100), torch.full_like(bos, -100), target], 1)
        return {"input_ids": ids, "attention_mask": mask, "labels": labels,
                "position_ids": (mask.cumsum(1) - 1).clamp(min=0)}


def batch_order(lengths: np.ndarray, batch_size: int, rng: np.random.Generator, by_length: bool,
                drop_last: bool = False) -> list[np.ndarray]:
    """Shuffled batches; with `by_length`, examples of similar length share a batch: shuffle, sort
    within mega-chunks of 50 batches, then shuffle the batches."""
    idx = rng.permutation(len(lengths))
    if by_length:
        chunk = batch_size * 50
        idx = np.concatenate([c[np.argsort(-lengths[c], kind="stable")] for c in np.split(idx, range(chunk, len(idx), chunk))])
    batches = [idx[s:s + batch_size] for s in range(0, len(idx), batch_size)]
    if drop_last and len(batches) > 1 and len(batches[-1]) < batch_size:
        batches = batches[:-1]
    order = rng.permutation(len(batches))
    return [batches[i] for i in order]
