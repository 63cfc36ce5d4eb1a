"""Parameter accounting (N_RS, N_LLM, N_QT) and a FLOPs estimate per training example."""
from __future__ import annotations

import torch


def numel(p: torch.Tensor) -> int:
    """A parameter's size, whole: under DeepSpeed ZeRO-3 a rank holds only its partition (`numel()` 0 outside a
    forward) and `ds_numel` says the whole; counting never gathers the model."""
    return int(getattr(p, "ds_numel", p.numel()))


def count(model: torch.nn.Module, trainable_only: bool = False) -> int:
    return sum(numel(p) for p in model.parameters() if p.requires_grad or not trainable_only)


def embedding_params(model: torch.nn.Module) -> int:
    inp = model.get_input_embeddings().weight
    out = model.get_output_embeddings()
    return numel(inp) + (numel(out.weight) if out is not None and out.weight is not inp else 0)


def recommender_params(model: torch.nn.Module) -> dict:
    total = count(model)
    emb = embedding_params(model)
    return {"n_rs": total, "n_rs_embedding": emb, "n_rs_non_embedding": total - emb}


def stack_params(model: torch.nn.Module) -> tuple[int, int, int]:
    """(non-embedding params that see input tokens, those that see output tokens, output-head size d*V).
    Encoder-decoder: encoder vs decoder stack; decoder-only: the whole stack sees every token."""
    emb = model.get_input_embeddings().weight
    head = numel(emb)
    if getattr(model.config, "is_encoder_decoder", False):
        enc = count(model.get_encoder()) - head
        dec = count(model.get_decoder()) - head
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


def _cross_kv_params(model: torch.nn.Module) -> int:
    """Encoder-decoder: the decoder's cross-attention key/value weights (they project the encoder's tokens)."""
    return sum(numel(p) for n, p in model.get_decoder().named_parameters()
               if "EncDecAttention" in n and (n.endswith(".k.weight") or n.endswith(".v.weight")))


def sid_decode_flops_per_user(model: torch.nn.Module, history_tokens: float, widths: list[int], beam_size: int) -> float:
    """Forward FLOPs to recommend to one user by SID beam search (2 per parameter per token it processes;
    attention's context term left out), as `scaling.sidgr.beam` runs it. Rows at digit d: 1 for the
    first digit, then min(beam, product of the widths before d).
    Encoder-decoder: the encoder once over the history; at digit d the decoder re-runs its d+1-token
    prefix without a cache: self-attention and MLP weights on d+1 tokens, cross-attention K/V weights on
    the history's tokens, the tied output head on all d+1 positions.
    Decoder-only: history + separator once (head on the last position), then one token per later digit."""
    n_in, n_out, head = stack_params(model)
    rows, reach = [], 1
    for w in widths:
        rows.append(min(beam_size, reach))
        reach *= w
    if getattr(model.config, "is_encoder_decoder", False):
        kv = _cross_kv_params(model)
        flops = 2.0 * n_in * history_tokens
        for d, r in enumerate(rows):
            flops += r * (2.0 * (n_out - kv) * (d + 1) + 2.0 * kv * history_tokens + 2.0 * head * (d + 1))
        return flops
    flops = 2.0 * n_in * (history_tokens + 1) + 2.0 * head
    for r in rows[1:]:
        flops += r * 2.0 * (n_in + head)
    return flops
