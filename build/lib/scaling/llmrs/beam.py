"""Batched beam search over titles with the KV cache: all users and beams of a batch advance together,
one model call per token. Scores are the model's log-probabilities (softmax over the whole vocabulary),
summed over the title and its eos, no length penalty.

Constrained: each beam may only extend to a token its trie node has as a child, so every finished
beam is a real title. Free: each beam extends to its top `beam_size` tokens; a finished beam that is
not a title counts as invalid.

Finished beams stay in the running: at every step each user keeps its `beam_size` best candidates
among the extensions of live beams *and* its finished beams; only live beams cost a model call. With
no length penalty a score can only fall as a title grows, so search ends once a user's best
`beam_size` are all finished.

Hand-written rather than `generate(prefix_allowed_tokens_fn=...)`: transformers calls that function
once per beam per step in Python and builds a vocabulary-wide mask for each; here the allowed tokens of
all beams come from one CSR gather (`TitleTrie.children`) and finished beams drop out of the batch.
"""
from __future__ import annotations

from dataclasses import dataclass

from typing import Callable

import torch

from scaling.llmrs.trie import TitleTrie


@dataclass
class TitleBeams:
    titles: torch.Tensor    # (B, K) title ids, best first; -1 = invalid (free search) or no beam
    scores: torch.Tensor    # (B, K) summed log-probabilities


def top_per_group(group: torch.Tensor, score: torch.Tensor, k: int, n_groups: int):
    """Indices of the k best scores within each group, ordered by (group, score desc), and their rank."""
    o1 = torch.argsort(score, descending=True, stable=True)
    order = o1[torch.argsort(group[o1], stable=True)]
    g = group[order]
    counts = torch.bincount(g, minlength=n_groups)
    rank = torch.arange(len(order), device=g.device) - (torch.cumsum(counts, 0) - counts)[g]
    keep = rank < k
    return order[keep], g[keep], rank[keep]


def _cache_of(out):
    return getattr(out, "cache", None) or getattr(out, "past_key_values", None)


@torch.inference_mode()
def title_beam_search(model, input_ids: torch.Tensor, attention_mask: torch.Tensor, trie: TitleTrie, eos: int,
                      beam_size: int, constrained: bool, sync: Callable[[bool], bool] | None = None) -> TitleBeams:
    """input_ids/attention_mask: (B, P) left-padded prompts. `sync` (scaling.decode.lockstep, several ranks):
    how many token steps a batch takes depends on its titles, so each step asks whether every rank is done, and
    a rank that is keeps making one-token dummy forwards until all are (ZeRO-3 gathers shards in each forward)."""
    n_users, dev = input_ids.shape[0], input_ids.device   # everything is allocated beside the inputs
    trie = trie.to(dev)
    mask = attention_mask
    pos = (mask.cumsum(1) - 1).clamp(min=0)
    out = model(input_ids=input_ids, attention_mask=mask, position_ids=pos, use_cache=True, logits_to_keep=1)
    cache, last = _cache_of(out), pos[:, -1]
    row_user = torch.arange(n_users, device=dev)
    row_node = torch.zeros(n_users, dtype=torch.long, device=dev)
    row_score = torch.zeros(n_users, device=dev)
    fin_user = torch.zeros(0, dtype=torch.long, device=dev)
    fin_score = torch.zeros(0, device=dev)
    fin_title = torch.zeros(0, dtype=torch.long, device=dev)
    for step in range(trie.max_len):
        logp = out.logits[:, -1].float().log_softmax(-1)
        if constrained:
            r, tok, child = trie.children(row_node)
        else:
            width = min(beam_size, logp.shape[1])
            tok = logp.topk(width, dim=1).indices.flatten()
            r = torch.arange(len(row_node), device=dev).repeat_interleave(width)
            child = trie.lookup(row_node[r], tok)
        score = row_score[r] + logp[r, tok]
        n_ext = len(r)
        sel, _, _ = top_per_group(torch.cat([row_user[r], fin_user]), torch.cat([score, fin_score]),
                                  beam_size, n_users)
        ext, old = sel[sel < n_ext], sel[sel >= n_ext] - n_ext
        ends = tok[ext] == eos
        done = ext[ends]
        fin_user = torch.cat([fin_user[old], row_user[r[done]]])
        fin_score = torch.cat([fin_score[old], score[done]])
        fin_title = torch.cat([fin_title[old], trie.title_of(child[done])])
        live = ext[~ends]
        stop = len(live) == 0 or step == trie.max_len - 1   # len() of a CUDA tensor syncs: once per token step
        if sync is not None:
            all_done = sync(stop)
            while stop and not all_done:   # done here, not everywhere: the forward calls of the ranks still decoding
                model(input_ids=input_ids[:1, -1:], use_cache=False)
                all_done = sync(True)
        if stop:
            break
        src = r[live]
        row_user, row_node, row_score = row_user[src], child[live], score[live]
        cache.reorder_cache(src)
        mask = torch.cat([mask[src], torch.ones(len(src), 1, dtype=mask.dtype, device=dev)], 1)
        last = last[src] + 1
        out = model(input_ids=tok[live][:, None], attention_mask=mask, position_ids=last[:, None], cache=cache,
                    use_cache=True)
        cache = _cache_of(out)
    idx, g, rank = top_per_group(fin_user, fin_score, beam_size, n_users)
    titles = torch.full((n_users, beam_size), -1, dtype=torch.long, device=dev)
    scores = torch.full((n_users, beam_size), float("-inf"), device=dev)
    titles[g, rank], scores[g, rank] = fin_title[idx], fin_score[idx]
    return TitleBeams(titles, scores)
