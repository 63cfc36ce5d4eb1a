"""The ID baseline's bundle for the one run skeleton: data -> item-ID histories -> SASRec, its batches and its
decoder (the top items by score: every item is scored, so nothing is invalid). Same split, evaluation users,
training loop, metrics and record as SID-GR and LLM-as-RS."""
from __future__ import annotations

import time

import numpy as np
import torch

from scaling.cache import ArtifactCache
from scaling.config import RunConfig
from scaling.data import load_split
from scaling.data.split import Examples
from scaling.decode import Decoder, pad_items
from scaling.idrec.model import PAD, PRESETS, SASRec, sasrec_flops_per_example, sasrec_params
from scaling.skeleton import Bundle


def history_ids(ex: Examples, idx: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    """Left-padded shifted item ids (item i -> i + 1; 0 = padding) trimmed to the batch's longest history."""
    h = torch.from_numpy(ex.history[idx])
    longest = max(int((h >= 0).sum(1).max()), 1)
    h = h[:, h.shape[1] - longest:]
    return (h + 1).clamp(min=PAD), (h >= 0).long()


def build_sasrec(cfg: RunConfig, cache: ArtifactCache, data_dir: str | None, log=print, device: str = "cpu",
                 progress: bool = True) -> Bundle:
    timing: dict[str, float] = {}
    t = time.perf_counter()
    _, ds, split = load_split(cfg.data, data_dir, log)
    timing["data_s"] = time.perf_counter() - t
    torch.manual_seed(cfg.seed)
    model = SASRec(ds.n_items, cfg.data.max_history, PRESETS[cfg.sasrec.preset], cfg.sasrec.dropout)
    ev = cfg.eval

    def batch_fn(idx: np.ndarray) -> dict:
        ids, mask = history_ids(split.train, idx)
        return {"input_ids": ids, "attention_mask": mask, "labels": torch.from_numpy(split.train.target[idx])}

    def search(m, sync, input_ids, attention_mask):
        return m.scores(input_ids, attention_mask).topk(min(ev.beam_size, ds.n_items), dim=1).indices

    decoder = Decoder(model, lengths=lambda ex: ex.lengths,
                      inputs=lambda ex, idx: dict(zip(("input_ids", "attention_mask"), history_ids(ex, idx))),
                      search=search, to_items=pad_items, beam_size=ev.beam_size,
                      batch_size=ev.batch_size)

    def params(state) -> dict:
        p = sasrec_params(model)
        tokens = state.tokens_seen / max(state.examples_seen, 1)
        flops = sasrec_flops_per_example(p["n_id_non_embedding"], model.items.embedding_dim, ds.n_items, tokens)
        return {**p, "train_flops_per_example": flops, "train_flops_total": flops * state.examples_seen}

    def serving_flops() -> dict:
        test = split.test.sample(ev.test_users)
        tokens = float(test.lengths.mean())
        p = sasrec_params(model)
        return {"decode_flops_per_user": 2.0 * p["n_id_non_embedding"] * tokens + 2.0 * model.items.embedding_dim
                * ds.n_items, "decode_input_tokens": tokens}

    data = {"dataset": ds.name, "users": ds.n_users, "items": ds.n_items, "interactions": ds.n_interactions,
            "train_examples": len(split.train)}
    return Bundle(split=split, data=data, timing=timing, model=model, decoder=decoder, train_lengths=split.train.lengths,
                  batch_fn=batch_fn, params=params, serving_flops=serving_flops)
