"""SID-GR's bundle for the one run skeleton: data -> item text -> embeddings -> SIDs -> recommender, its
batches and its decoder (SID beam search). `scaling.skeleton` trains, decodes and records it.
"""
from __future__ import annotations

import time

import numpy as np
import torch

from scaling.cache import ArtifactCache
from scaling.config import RunConfig
from scaling.data import load_split
from scaling.decode import Decoder, pad_items
from scaling.item_sids import item_sids
from scaling.params import recommender_params, sid_decode_flops_per_user, train_flops_per_example
from scaling.sidgr.batching import SIDBatcher
from scaling.sidgr.beam import beam_search
from scaling.sidgr.model import TokenLayout, build_model
from scaling.sidgr.trie import SIDTrie
from scaling.skeleton import Bundle


def build_sidgr(cfg: RunConfig, cache: ArtifactCache, data_dir: str | None, log=print, device: str = "cpu",
                progress: bool = True) -> Bundle:
    timing: dict[str, float] = {}
    t = time.perf_counter()
    full, ds, split = load_split(cfg.data, data_dir, log)
    missing = ds.missing_fields()
    log(f"items lacking a field: {missing}")
    timing["data_s"] = time.perf_counter() - t

    its = item_sids(cfg, cache, full, ds, device, progress)
    sids, n_llm = its.sids, its.n_encoder
    timing["embed_s"], timing["tokenize_s"] = its.embed_s, its.tokenize_s
    log(its.describe(cfg))

    torch.manual_seed(cfg.seed)
    layout = TokenLayout(sids.widths, cfg.model.n_user_buckets)
    item_tokens = layout.item_tokens(torch.from_numpy(sids.codes))
    trie = SIDTrie(sids.codes, sids.widths)
    model = build_model(cfg.model, layout)
    batcher = SIDBatcher(item_tokens, layout, cfg.model.arch)
    ev = cfg.eval
    decoder = sid_decoder(model, batcher, trie, ev.beam_size, ev.constrained, ev.batch_size)

    def params(state) -> dict:
        in_tokens = state.tokens_seen / max(state.examples_seen, 1)
        if cfg.model.arch == "decoder":   # tokens_seen counted the separator and SID too
            in_tokens -= 1 + sids.length
        flops = train_flops_per_example(model, in_tokens, sids.length)
        return {**recommender_params(model), "n_llm": n_llm, "n_qt": sids.n_params, "sid_length": sids.length,
                "sid_widths": sids.widths, "train_flops_per_example": flops,
                "train_flops_total": flops * state.examples_seen}

    def serving_flops() -> dict:
        test = split.test.sample(ev.test_users)
        history_tokens = float(test.lengths.mean()) * sids.length + (1 if cfg.model.n_user_buckets else 0)
        return {"decode_flops_per_user": sid_decode_flops_per_user(model, history_tokens, sids.widths, ev.beam_size),
                "decode_input_tokens": history_tokens}

    data = {"dataset": ds.name, "users": ds.n_users, "items": ds.n_items, "interactions": ds.n_interactions,
            "train_examples": len(split.train), "items_missing_field": missing, "sid_quality": sids.quality,
            "embedding_cache_hit": its.embedding_cache_hit, "sid_cache_hit": its.sid_cache_hit}
    def export(state: dict, out) -> None:
        """The kept recommender as a transformers model directory beside its SIDs (codes, widths), which it reads."""
        from scaling.record import atomic_dir, atomic_save_npz

        with atomic_dir(out) as tmp:
            model.save_pretrained(tmp, state_dict=state)
            atomic_save_npz(tmp / "sids.npz", codes=sids.codes, widths=np.asarray(sids.widths))

    return Bundle(split=split, data=data, timing=timing, model=model, decoder=decoder, train_lengths=split.train.lengths,
                  batch_fn=lambda idx: batcher.train_batch(split.train, idx), params=params, serving_flops=serving_flops,
                  export=export)


def sid_decoder(model, batcher: SIDBatcher, trie: SIDTrie, beam_size: int, constrained: bool, batch_size: int) -> Decoder:
    """SID beam search over histories; the trie's leaves are item ids."""
    return Decoder(
        model, lengths=lambda ex: ex.lengths,
        inputs=lambda ex, idx: dict(zip(("input_ids", "attention_mask"), batcher.history_tokens(ex.history[idx], ex.user[idx]))),
        # sync unused: SID beam search makes the same number of forward calls for every batch (one per digit)
        search=lambda m, sync, input_ids, attention_mask: beam_search(m, batcher.arch, input_ids, attention_mask,
                                                                      batcher.layout, trie, beam_size, constrained).items,
        to_items=pad_items, beam_size=beam_size, batch_size=batch_size)
