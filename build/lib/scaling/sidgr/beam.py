"""Batched beam search over SIDs: all users of a batch and all beams advance together, one model call
per SID digit. Each step scores only the tokens of that digit position; the constrained variant also
masks digits that leave the trie of real items (one gather, so it costs about what free search costs).

Encoder-decoder: the encoder runs once; the decoder is re-run on the (at most L'+1 token) prefix each
step instead of keeping a KV cache — for 4-digit SIDs that is cheaper than reordering caches.
Decoder-only: the history is run once and its KV cache is repeated per beam and reordered each step.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from transformers.modeling_outputs import BaseModelOutput

from scaling.sidgr.model import BOS, PAD, TokenLayout
from scaling.sidgr.trie import SIDTrie


@dataclass
class BeamResult:
    items: torch.Tensor     # (B, K) item indices, best first; -1 = generated SID is not a real item
    scores: torch.Tensor    # (B, K) log-probabilities


def _select(scores, logp, child, constrained, beam_size, n_users):
    """One beam step. scores (N,), logp/child (N, W) with N = n_users * beams_now."""
    if constrained:
        logp = logp.masked_fill(child < 0, float("-inf"))
    w = logp.shape[1]
    total = (scores[:, None] + logp).view(n_users, -1)
    k = min(beam_size, total.shape[1])
    top, flat = total.topk(k, dim=1)
    beams_now = total.shape[1] // w
    src = (torch.arange(n_users, device=flat.device)[:, None] * beams_now + flat // w).flatten()
    val = (flat % w).flatten()
    return top.flatten(), src, val, k


def _cache_of(out):
    return getattr(out, "cache", None) or getattr(out, "past_key_values", None)


@torch.inference_mode()
def beam_search(model, arch: str, input_ids: torch.Tensor, attention_mask: torch.Tensor, layout: TokenLayout,
                trie: SIDTrie, beam_size: int, constrained: bool) -> BeamResult:
    n_users, dev = input_ids.shape[0], input_ids.device   # everything is allocated beside the inputs
    trie = trie.to(dev)
    offsets, widths = layout.offsets, layout.widths
    scores = torch.zeros(n_users, device=dev)
    node = torch.zeros(n_users, dtype=torch.long, device=dev)
    if arch == "encdec":
        enc = model.get_encoder()(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        hidden, mask = enc, attention_mask
        dec = torch.full((n_users, 1), PAD, dtype=torch.long, device=dev)
        for d, (off, w) in enumerate(zip(offsets, widths)):
            logits = model(encoder_outputs=BaseModelOutput(last_hidden_state=hidden), attention_mask=mask,
                           decoder_input_ids=dec, use_cache=False).logits[:, -1, off:off + w]
            child = trie.step(d, node)
            scores, src, val, _ = _select(scores, logits.float().log_softmax(-1), child, constrained, beam_size, n_users)
            node = child[src, val]
            dec = torch.cat([dec[src], (val + off)[:, None]], 1)
            hidden, mask = hidden[src], mask[src]   # rows follow their beams (all rows of a user are equal)
    else:
        ids = torch.cat([input_ids, torch.full((n_users, 1), BOS, device=dev)], 1)
        mask = torch.cat([attention_mask, torch.ones(n_users, 1, dtype=attention_mask.dtype, device=dev)], 1)
        pos = (mask.cumsum(1) - 1).clamp(min=0)
        out = model(input_ids=ids, attention_mask=mask, position_ids=pos, use_cache=True, logits_to_keep=1)
        cache, last = _cache_of(out), pos[:, -1]
        for d, (off, w) in enumerate(zip(offsets, widths)):
            logits = out.logits[:, -1, off:off + w]
            child = trie.step(d, node)
            scores, src, val, _ = _select(scores, logits.float().log_softmax(-1), child, constrained, beam_size, n_users)
            node = child[src, val]
            if d == len(widths) - 1:
                break
            cache.reorder_cache(src)                # also grows 1 -> k rows per user after the first digit
            mask, last = mask[src], last[src]
            mask = torch.cat([mask, torch.ones(len(src), 1, dtype=mask.dtype, device=dev)], 1)
            last = last + 1
            out = model(input_ids=(val + off)[:, None], attention_mask=mask, position_ids=last[:, None],
                        cache=cache, use_cache=True)
            cache = _cache_of(out)
    k = scores.numel() // n_users
    return BeamResult(items=node.view(n_users, k), scores=scores.view(n_users, k))
