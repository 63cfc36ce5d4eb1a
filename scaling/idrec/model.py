"""SASRec (Kang & McAuley 2018) as a small torch module: item-ID embeddings + learned positions, a causal
pre-norm transformer (torch's own `nn.TransformerEncoder`: no hand-written attention), and scores for every item by
the dot product with the (tied) item embeddings; cross-entropy over all items for the next one.

Sizes (`sasrec.preset`): the 2025 study's six (arXiv 2509.25522, Table 3), named by their non-embedding
parameters (12 d² a layer: attention 4 d², MLP 8 d² at d_ff = 4 d; biases and norms aside).
"""
from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace

import torch
import torch.nn.functional as F
from torch import nn


@dataclass(frozen=True)
class SASRecPreset:
    layers: int
    d_model: int
    heads: int


PRESETS = {
    "t3-98k": SASRecPreset(2, 64, 2),
    "t3-786k": SASRecPreset(4, 128, 4),
    "t3-1.6m": SASRecPreset(8, 128, 4),
    "t3-6.3m": SASRecPreset(8, 256, 8),
    "t3-25m": SASRecPreset(8, 512, 8),
    "t3-75m": SASRecPreset(24, 512, 8),
}
PAD = 0   # item ids are shifted by one: 0 is padding


class SASRec(nn.Module):
    def __init__(self, n_items: int, max_len: int, preset: SASRecPreset, dropout: float):
        super().__init__()
        d = preset.d_model
        self.items = nn.Embedding(n_items + 1, d, padding_idx=PAD)
        self.positions = nn.Embedding(max_len, d)
        layer = nn.TransformerEncoderLayer(d, preset.heads, 4 * d, dropout, activation="gelu", batch_first=True,
                                           norm_first=True)
        self.blocks = nn.TransformerEncoder(layer, preset.layers, norm=nn.LayerNorm(d), enable_nested_tensor=False)
        self.dropout = nn.Dropout(dropout)
        nn.init.normal_(self.items.weight, std=0.02)
        nn.init.normal_(self.positions.weight, std=0.02)

    def scores(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """(B, H) left-padded shifted item ids -> (B, n_items) scores of the next item (item i at column i)."""
        pos = (attention_mask.cumsum(1) - 1).clamp(min=0)
        x = self.dropout(self.items(input_ids) + self.positions(pos))
        h = input_ids.shape[1]
        causal = torch.triu(torch.ones(h, h, dtype=torch.bool, device=x.device), 1)
        x = self.blocks(x, mask=causal, src_key_padding_mask=attention_mask == 0, is_causal=True)
        return x[:, -1] @ self.items.weight[1:].T   # left padding: the last position is every row's latest item

    def forward(self, input_ids, attention_mask, labels=None):
        logits = self.scores(input_ids, attention_mask)
        loss = F.cross_entropy(logits.float(), labels) if labels is not None else None
        return SimpleNamespace(loss=loss, logits=logits)


def sasrec_params(model: SASRec) -> dict:
    from scaling.params import count, numel

    total = count(model)
    emb = numel(model.items.weight) + numel(model.positions.weight)
    return {"n_id": total, "n_id_embedding": emb, "n_id_non_embedding": total - emb}


def sasrec_flops_per_example(non_embedding: float, d_model: int, n_items: int, tokens: float) -> float:
    """Training FLOPs per example: 6 per stack parameter per history token, and the full-softmax head (every item's
    d-dimensional score) on the one predicting position. The record's figure and the dry run's estimate."""
    return 6.0 * non_embedding * tokens + 6.0 * d_model * n_items
