"""Every item's semantic ID: its text embedded by the frozen encoder (cached), quantized by the tokenizer (cached).
SID-GR's recommender generates these; LLM-as-RS reads and writes them with `llm.item_repr=sid`."""
from __future__ import annotations

import time
from dataclasses import dataclass

from scaling.cache import ArtifactCache
from scaling.config import RunConfig
from scaling.data import item_text
from scaling.data.dataset import Dataset
from scaling.encoders import embed_items
from scaling.tokenizers import fit_sids


@dataclass
class ItemSIDs:
    sids: object                  # scaling.tokenizers' SIDs: codes (items, L), widths, quality, n_params
    n_encoder: int                # the encoder's parameters
    embedding_cache_hit: bool
    sid_cache_hit: bool
    embed_s: float
    tokenize_s: float

    def describe(self, cfg: RunConfig) -> str:
        s = self.sids
        return (f"SIDs {cfg.tokenizer.kind} {cfg.tokenizer.levels}x{cfg.tokenizer.width} -> widths {s.widths}; "
                f"collision rate {s.quality['collision_rate']:.3f} (embeddings cached: {self.embedding_cache_hit}, "
                f"SIDs cached: {self.sid_cache_hit})")


def item_sids(cfg: RunConfig, cache: ArtifactCache, full: Dataset, ds: Dataset, device: str = "cpu",
              progress: bool = True) -> ItemSIDs:
    """`full`: the whole catalogue, `ds`: the run's (a subset of it, or the same)."""
    # Embed the whole catalogue once and slice it, so subset sizes and seeds share one cached embedding;
    # a subset with under half the catalogue embeds only its own items (big encoders on small studies).
    t = time.perf_counter()
    if ds.parent_items is not None and ds.n_items < full.n_items / 2:
        emb, n_enc, emb_hit = embed_items([item_text(it) for it in ds.items], cfg.encoder, cache, ds.name, device,
                                          progress)
    else:
        emb, n_enc, emb_hit = embed_items([item_text(it) for it in full.items], cfg.encoder, cache, full.name, device,
                                          progress)
        if ds.parent_items is not None:
            emb = emb[ds.parent_items]
    embed_s = time.perf_counter() - t
    t = time.perf_counter()
    sids, sid_hit = fit_sids(emb, cfg.tokenizer, cfg.seed, cache)
    return ItemSIDs(sids, n_enc, emb_hit, sid_hit, embed_s, time.perf_counter() - t)
