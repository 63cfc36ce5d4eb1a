"""Parameter accounting (N_RS, N_LLM, N_QT) and a FLOPs estimate per training example."""
from __future__ import annotations

import torch

from scaling.sidgr.model import embedding_params


def count(model: torch.nn.Module, trainable_only: bool = False) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


def recommender_params(model: torch.nn.Module) -> dict:
    total = count(model)
    emb = embedding_params(model)
    return {"n_rs": total, "n_rs_embedding": emb, "n_rs_non_embedding": total - emb}


def train_flops_per_example(n_non_embedding: int, tokens_per_example: float) -> float:
    """Kaplan et al.'s estimate: 6 FLOPs per non-embedding parameter per token (forward + backward);
    attention's context-length term is left out (histories here are <= ~80 tokens, d_model >= 64)."""
    return 6.0 * n_non_embedding * tokens_per_example
