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


def stack_params(model: torch.nn.Module) -> tuple[int, int, int]:
    """(non-embedding params that see input tokens, those that see output tokens, output-head size d*V).
    Encoder-decoder: encoder vs decoder stack; decoder-only: the whole stack sees every token."""
    emb = model.get_input_embeddings().weight
    head = emb.numel()
    if getattr(model.config, "is_encoder_decoder", False):
        enc = sum(p.numel() for p in model.get_encoder().parameters()) - emb.numel()
        dec = sum(p.numel() for p in model.get_decoder().parameters()) - emb.numel()
        return enc, dec, head
    body = count(model) - embedding_params(model)
    return body, body, head


def train_flops_per_example(model: torch.nn.Module, input_tokens: float, output_tokens: float) -> float:
    """Kaplan et al.'s estimate, per stack: 6 FLOPs (forward + backward) per parameter per token the
    parameter processes, plus the output projection on the predicted tokens. Encoder parameters see the
    history, decoder parameters only the SID; a decoder-only model sees both. Attention's
    context-length term is left out (histories here are <= ~80 tokens)."""
    n_in, n_out, head = stack_params(model)
    if getattr(model.config, "is_encoder_decoder", False):
        return 6.0 * (n_in * input_tokens + (n_out + head) * output_tokens)
    return 6.0 * (n_in * (input_tokens + output_tokens + 1) + head * output_tokens)
