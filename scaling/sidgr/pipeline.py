"""One SID-GR run: data -> item text -> embeddings -> SIDs -> recommender -> train -> evaluate.

Returns everything the run record holds; `scaling.run` writes it.
"""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import torch

from scaling.cache import ArtifactCache
from scaling.config import RunConfig
from scaling.data import item_text, load_split
from scaling.evaluation import best_validation, final_metrics
from scaling.encoders import embed_items
from scaling.params import recommender_params, train_flops_per_example
from scaling.sidgr.batching import SIDBatcher, batch_order
from scaling.sidgr.evaluate import evaluate
from scaling.sidgr.model import TokenLayout, build_model
from scaling.sidgr.trie import SIDTrie
from scaling.tokenizers import fit_sids
from scaling.train import Dist, train


def run_sidgr(cfg: RunConfig, run_dir: Path, cache: ArtifactCache, data_dir: str | None,
              progress: bool = True, dist: Dist | None = None, log=print) -> dict:
    timing: dict[str, float] = {}
    t = time.perf_counter()
    full, ds, split = load_split(cfg.data, data_dir, log)
    missing = ds.missing_fields()
    log(f"items lacking a field: {missing}")
    timing["data_s"] = time.perf_counter() - t

    # Embed the whole catalogue once and slice it, so subset sizes and seeds share one cached embedding;
    # a subset with under half the catalogue embeds only its own items (big encoders on small studies).
    t = time.perf_counter()
    if ds.parent_items is not None and ds.n_items < full.n_items / 2:
        emb, n_llm, emb_hit = embed_items([item_text(it) for it in ds.items], cfg.encoder, cache, ds.name)
    else:
        emb, n_llm, emb_hit = embed_items([item_text(it) for it in full.items], cfg.encoder, cache, full.name)
        if ds.parent_items is not None:
            emb = emb[ds.parent_items]
    timing["embed_s"] = time.perf_counter() - t
    t = time.perf_counter()
    sids, sid_hit = fit_sids(emb, cfg.tokenizer, cfg.seed, cache)
    timing["tokenize_s"] = time.perf_counter() - t
    log(f"SIDs {cfg.tokenizer.kind} {cfg.tokenizer.levels}x{cfg.tokenizer.width} -> widths {sids.widths}; "
        f"collision rate {sids.quality['collision_rate']:.3f} (embeddings cached: {emb_hit}, SIDs cached: {sid_hit})")

    torch.manual_seed(cfg.seed)
    layout = TokenLayout(sids.widths, cfg.model.n_user_buckets)
    item_tokens = layout.item_tokens(torch.from_numpy(sids.codes))
    trie = SIDTrie(sids.codes, sids.widths)
    model = build_model(cfg.model, layout)
    batcher = SIDBatcher(item_tokens, layout, cfg.model.arch)
    valid_small = split.valid.sample(cfg.eval.valid_users)
    ev = cfg.eval

    def make_batches(epoch: int):
        rng = np.random.default_rng([cfg.seed, epoch])
        return batch_order(split.train.lengths, cfg.train.batch_size, rng, cfg.train.bucket_by_length)

    t = time.perf_counter()
    state = train(model, cfg.train, make_batches=make_batches,
                  batch_fn=lambda idx: batcher.train_batch(split.train, idx),
                  evaluate=lambda m: evaluate(m, batcher, trie, valid_small, ev.beam_size, ev.constrained, ev.batch_size),
                  metric="ndcg@10", ckpt_dir=run_dir / "ckpt", seed=cfg.seed, dist=dist, progress=progress)
    timing["train_s"] = time.perf_counter() - t

    metrics: dict = {"curve": state.curve, "best_step": state.best_step, "steps": state.step,
                     "stopped_early": state.stopped_early, "resumed_from": state.resumed_from, "rank_weight_sha256": state.rank_weight_sha256,
                     "world_size": (dist or Dist()).world_size}
    if dist is None or dist.is_main:
        t = time.perf_counter()
        metrics.update(final_metrics(lambda ex, desc: evaluate(model, batcher, trie, ex, ev.beam_size, ev.constrained,
                                                               ev.batch_size, progress, desc), split, ev.test_users,
                                     best_validation(state, ev.valid_users, ev.test_users)))
        timing["eval_s"] = time.perf_counter() - t
    timing["train_examples_per_s"] = state.examples_seen / max(state.train_seconds, 1e-9)
    timing["train_tokens_per_s"] = state.tokens_seen / max(state.train_seconds, 1e-9)

    in_tokens = state.tokens_seen / max(state.examples_seen, 1)
    if cfg.model.arch == "decoder":   # tokens_seen counted the separator and SID too
        in_tokens -= 1 + sids.length
    rs = recommender_params(model)
    flops = train_flops_per_example(model, in_tokens, sids.length)
    params = {**rs, "n_llm": n_llm, "n_qt": sids.n_params, "sid_length": sids.length, "sid_widths": sids.widths,
              "train_flops_per_example": flops, "train_flops_total": flops * state.examples_seen}
    data = {"dataset": ds.name, "users": ds.n_users, "items": ds.n_items, "interactions": ds.n_interactions,
            "train_examples": len(split.train), "items_missing_field": missing, "sid_quality": sids.quality,
            "embedding_cache_hit": emb_hit, "sid_cache_hit": sid_hit}
    return {"metrics": metrics, "params": params, "timing": timing, "data": data}
