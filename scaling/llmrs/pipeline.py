"""One LLM-as-RS run: data -> item names -> prompts -> LLM (full / LoRA) -> train -> title beam search.

Same split, training loop, metrics and run record as SID-GR; returns what the run record holds.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from scaling.cache import ArtifactCache
from scaling.config import RunConfig
from scaling.data import load_split
from scaling.data.dataset import Dataset
from scaling.data.split import Examples, Split
from scaling.evaluation import best_validation, final_metrics, popular_metrics
from scaling.llmrs.batching import LLMBatcher
from scaling.llmrs.evaluate import TitleItems, evaluate
from scaling.llmrs.model import LoadedLLM, llm_flops_per_example, load_llm
from scaling.llmrs.probes import item_names, shuffle_histories
from scaling.llmrs.prompts import Prompts, build_prompts
from scaling.llmrs.trie import TitleTrie
from scaling.sidgr.batching import batch_order
from scaling.train import Dist, train


@dataclass
class Prepared:
    """Everything a run (or a benchmark) needs before training: data, model, prompts, trie."""
    split: Split                  # examples after probes and prompt-budget cuts
    llm: LoadedLLM
    prompts: Prompts
    trie: TitleTrie
    title_items: TitleItems
    batcher: LLMBatcher
    data: dict


def prepare(cfg: RunConfig, cache: ArtifactCache, ds: Dataset, split: Split, log=print) -> Prepared:
    lc = cfg.llm
    names, missing = item_names(ds, lc.probe, cfg.seed)
    if missing:
        log(f"{missing} items have no title: named by their category or id (see scaling.llmrs.probes)")
    torch.manual_seed(cfg.seed)
    llm = load_llm(lc, cache.root)
    prompts = build_prompts(llm.tokenizer, names, lc, llm.context)
    trie = TitleTrie([prompts.target(i) for i in range(ds.n_items)], llm.model.config.vocab_size)
    popularity = np.bincount(np.concatenate(split.train_sequences), minlength=ds.n_items)
    log(f"LLM {lc.name} ({llm.n_llm:,} params, {llm.n_trainable:,} trainable, {lc.finetune}, {lc.dtype}); "
        f"{trie.n_titles:,} distinct titles for {ds.n_items:,} items")
    sets: dict[str, Examples] = {"train": split.train, "valid": split.valid, "test": split.test}
    if lc.probe == "shuffled":
        sets = {k: shuffle_histories(v, cfg.seed) for k, v in sets.items()}
    truncated = {}
    for k, v in sets.items():
        sets[k], dropped = prompts.fit(v)
        truncated[k] = float((dropped > 0).mean())
    data = {"titles_missing": missing, "distinct_titles": trie.n_titles, "prompt_truncated_frac": truncated}
    return Prepared(Split(split.train_sequences, sets["train"], sets["valid"], sets["test"], split.n_items), llm,
                    prompts, trie, TitleItems(trie.item_title, popularity), LLMBatcher(prompts), data)


def run_llmrs(cfg: RunConfig, run_dir: Path, cache: ArtifactCache, data_dir: str | None,
              progress: bool = True, dist: Dist | None = None, log=print) -> dict:
    timing: dict[str, float] = {}
    t = time.perf_counter()
    _, ds, split = load_split(cfg.data, data_dir, log)
    ev, lc = cfg.eval, cfg.llm
    data = {"dataset": ds.name, "users": ds.n_users, "items": ds.n_items, "interactions": ds.n_interactions,
            "train_examples": len(split.train)}
    if lc.probe == "popular":   # the baseline as its own row: no model, same split and evaluation users
        metrics = popular_metrics(split, ev.test_users, prefix="")
        return {"metrics": metrics, "params": {"n_llm": 0, "n_trainable": 0}, "data": data,
                "timing": {"data_s": time.perf_counter() - t}}
    timing["data_s"] = time.perf_counter() - t
    t = time.perf_counter()
    p = prepare(cfg, cache, ds, split, log)
    timing["load_s"] = time.perf_counter() - t
    data.update(p.data)
    llm, prompts, trie, title_items, batcher = p.llm, p.prompts, p.trie, p.title_items, p.batcher
    sets = {"train": p.split.train, "valid": p.split.valid, "test": p.split.test}
    lengths = batcher.prompt_lengths(sets["train"])
    valid_small = sets["valid"].sample(ev.valid_users)
    model = llm.model

    def make_batches(epoch: int):
        rng = np.random.default_rng([cfg.seed, epoch])
        return batch_order(lengths, cfg.train.batch_size, rng, cfg.train.bucket_by_length)

    def run_eval(m, ex: Examples, show: bool = False, desc: str = "decode"):
        return evaluate(m, batcher, trie, title_items, ex, ev.beam_size, ev.constrained, ev.batch_size, show, desc)

    t = time.perf_counter()
    state = train(model, cfg.train, make_batches=make_batches,
                  batch_fn=lambda idx: batcher.train_batch(sets["train"], idx),
                  evaluate=lambda m: run_eval(m, valid_small, progress, "validate"), metric="ndcg@10",
                  ckpt_dir=run_dir / "ckpt", seed=cfg.seed, dist=dist, progress=progress)
    timing["train_s"] = time.perf_counter() - t

    metrics: dict = {"curve": state.curve, "best_step": state.best_step, "steps": state.step,
                     "stopped_early": state.stopped_early, "resumed_from": state.resumed_from,
                     "rank_weight_sha256": state.rank_weight_sha256, "world_size": (dist or Dist()).world_size}
    if dist is None or dist.is_main:
        t = time.perf_counter()
        metrics.update(final_metrics(lambda ex, desc: run_eval(model, ex, progress, desc), p.split, ev.test_users,
                                     best_validation(state, ev.valid_users, ev.test_users)))
        timing["eval_s"] = time.perf_counter() - t
    timing["train_examples_per_s"] = state.examples_seen / max(state.train_seconds, 1e-9)
    timing["train_tokens_per_s"] = state.tokens_seen / max(state.train_seconds, 1e-9)

    tokens = state.tokens_seen / max(state.examples_seen, 1)
    target_tokens = float(np.mean([len(prompts.names[i]) + 1 for i in split.train.target]))
    flops = llm_flops_per_example(llm, lc.finetune, tokens, target_tokens)
    params = {"n_llm": llm.n_llm, "n_llm_embedding": llm.n_embedding, "n_llm_non_embedding": llm.n_llm - llm.n_embedding,
              "n_trainable": llm.n_trainable, "n_lora": llm.n_trainable if lc.finetune == "lora" else 0,
              "llm_identity": llm.identity, "train_flops_per_example": flops,
              "train_flops_total": flops * state.examples_seen}
    return {"metrics": metrics, "params": params, "timing": timing, "data": data}
