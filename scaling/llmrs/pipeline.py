"""LLM-as-RS's bundle for the one run skeleton: data -> item names -> prompts -> LLM (full / LoRA), its
batches and its decoder (title beam search). Same split, training loop, metrics and run record as SID-GR.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import torch

from scaling.cache import ArtifactCache
from scaling.config import RunConfig
from scaling.data import load_split
from scaling.data.dataset import Dataset
from scaling.data.split import Examples, Split
from scaling.decode import Decoder
from scaling.llmrs.batching import LLMBatcher
from scaling.llmrs.beam import title_beam_search
from scaling.llmrs.model import LoadedLLM, llm_decode_flops_per_user, llm_flops_per_example, load_llm
from scaling.item_sids import item_sids
from scaling.llmrs.probes import item_names, shuffle_histories
from scaling.llmrs.prompts import Prompts, build_prompts
from scaling.llmrs.sid_items import sid_name_ids, sid_token_names
from scaling.llmrs.title_items import TitleItems
from scaling.llmrs.trie import TitleTrie
from scaling.skeleton import Bundle


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


def prepare(cfg: RunConfig, cache: ArtifactCache, ds: Dataset, split: Split, log=print, full: Dataset | None = None,
            device: str = "cpu", progress: bool = False) -> Prepared:
    """`full`: the whole catalogue `ds` was cut from (llm.item_repr=sid embeds it once, as SID-GR does)."""
    lc = cfg.llm
    names, missing = item_names(ds, lc.probe, cfg.seed)
    if missing and lc.item_repr == "title":
        log(f"{missing} items have no title: named by their category or id (see scaling.llmrs.probes)")
    sid_data, new_tokens = {}, None
    if lc.item_repr == "sid":
        its = item_sids(cfg, cache, full if full is not None else ds, ds, device, progress)
        log(its.describe(cfg))
        new_tokens = sid_token_names(its.sids.widths)
        sid_data = {"sid_quality": its.sids.quality, "sid_widths": list(its.sids.widths), "n_qt": its.sids.n_params,
                    "n_encoder": its.n_encoder}
    torch.manual_seed(cfg.seed)
    llm = load_llm(lc, cache.root, new_tokens)
    name_ids = None
    if new_tokens:
        name_ids = sid_name_ids(its.sids.codes, its.sids.widths, llm.tokenizer.convert_tokens_to_ids(new_tokens))
    prompts = build_prompts(llm.tokenizer, names, lc, llm.context, name_ids)
    trie = TitleTrie([prompts.target(i) for i in range(ds.n_items)], max(llm.model.config.vocab_size, len(llm.tokenizer)))
    popularity = np.bincount(np.concatenate(split.train_sequences), minlength=ds.n_items)
    log(f"LLM {lc.name} ({llm.n_llm:,} params, {llm.n_trainable:,} trainable, {lc.finetune}, {lc.dtype}); "
        f"{trie.n_titles:,} distinct {'SIDs' if lc.item_repr == 'sid' else 'titles'} for {ds.n_items:,} items")
    sets: dict[str, Examples] = {"train": split.train, "valid": split.valid, "test": split.test}
    if lc.probe == "shuffled":
        sets = {k: shuffle_histories(v, cfg.seed) for k, v in sets.items()}
    truncated = {}
    for k, v in sets.items():
        sets[k], dropped = prompts.fit(v)
        truncated[k] = float((dropped > 0).mean())
    data = {"titles_missing": missing, "distinct_titles": trie.n_titles, "prompt_truncated_frac": truncated,
            "item_repr": lc.item_repr, **sid_data}
    return Prepared(Split(split.train_sequences, sets["train"], sets["valid"], sets["test"], split.n_items), llm,
                    prompts, trie, TitleItems(trie.item_title, popularity), LLMBatcher(prompts), data)


def build_llmrs(cfg: RunConfig, cache: ArtifactCache, data_dir: str | None, log=print, device: str = "cpu",
                progress: bool = True) -> Bundle:
    """`device` is where training will put the model (the skeleton moves it); loading happens on the CPU."""
    timing: dict[str, float] = {}
    t = time.perf_counter()
    full, ds, split = load_split(cfg.data, data_dir, log)
    ev, lc = cfg.eval, cfg.llm
    data = {"dataset": ds.name, "users": ds.n_users, "items": ds.n_items, "interactions": ds.n_interactions,
            "train_examples": len(split.train)}
    timing["data_s"] = time.perf_counter() - t
    if lc.probe == "popular":   # the baseline as its own row: no model, same split and evaluation users
        return Bundle(split=split, data=data, timing=timing, params=lambda state: {"n_llm": 0, "n_trainable": 0})
    t = time.perf_counter()
    p = prepare(cfg, cache, ds, split, log, full, device, progress)
    timing["load_s"] = time.perf_counter() - t
    data.update(p.data)
    llm, prompts, batcher = p.llm, p.prompts, p.batcher
    decoder = llm_decoder(p, ev.beam_size, ev.constrained, ev.batch_size)

    def params(state) -> dict:
        tokens = state.tokens_seen / max(state.examples_seen, 1)
        target_tokens = float(np.mean([len(prompts.names[i]) + 1 for i in split.train.target]))
        flops = llm_flops_per_example(llm, lc.finetune, tokens, target_tokens)
        return {"n_llm": llm.n_llm, "n_llm_embedding": llm.n_embedding,
                "n_llm_non_embedding": llm.n_llm - llm.n_embedding, "n_trainable": llm.n_trainable,
                "n_lora": llm.n_trainable if lc.finetune == "lora" else 0, "llm_identity": llm.identity,
                "train_flops_per_example": flops, "train_flops_total": flops * state.examples_seen,
                **{k: p.data[k] for k in ("n_qt", "n_encoder") if k in p.data}}

    def serving_flops() -> dict:
        test = p.split.test.sample(ev.test_users)
        prompt = float(batcher.prompt_lengths(test).mean())
        title = p.trie.mean_len
        return {"decode_flops_per_user": llm_decode_flops_per_user(llm, prompt, title, ev.beam_size),
                "decode_input_tokens": prompt, "decode_title_tokens": title}

    return Bundle(split=p.split, data=data, timing=timing, model=llm.model, decoder=decoder,
                  train_lengths=batcher.prompt_lengths(p.split.train),
                  batch_fn=lambda idx: batcher.train_batch(p.split.train, idx), params=params,
                  serving_flops=serving_flops, export=lambda state, out: export_llm(llm, lc, state, out))


def export_llm(llm: LoadedLLM, lc, state: dict, out) -> None:
    """The kept weights as their library reads them: LoRA, a PEFT adapter directory (`PeftModel.from_pretrained(base,
    RUN/ckpt/best)`); full fine-tuning, a transformers model directory (`AutoModelForCausalLM.from_pretrained`)
    with its tokenizer. Written from the kept state dict, so a ZeRO-3 run never gathers its model for it."""
    from scaling.record import atomic_dir

    with atomic_dir(out) as tmp:
        if lc.finetune == "lora":
            from peft import get_peft_model_state_dict
            from safetensors.torch import save_file

            llm.model.peft_config["default"].save_pretrained(tmp)
            # SIDs (llm.item_repr=sid): the new rows are the trainable tokens' own tensors; the resized embedding
            # matrix (the base's rows) is not saved again: load_model resizes the base as the run did
            adapter = get_peft_model_state_dict(llm.model, state_dict=state, save_embedding_layers=False)
            save_file({k: v.contiguous() for k, v in adapter.items()}, str(tmp / "adapter_model.safetensors"))
        else:   # a whole model directory, loadable on its own: with its tokenizer (an adapter reads the base's)
            llm.model.save_pretrained(tmp, state_dict=state)
            llm.tokenizer.save_pretrained(tmp)


def llm_decoder(p: Prepared, beam_size: int, constrained: bool, batch_size: int) -> Decoder:
    """Title beam search over prompts, titles mapped back to items."""
    batcher, trie = p.batcher, p.trie
    return Decoder(
        p.llm.model, lengths=batcher.prompt_lengths,
        inputs=lambda ex, idx: dict(zip(("input_ids", "attention_mask"), batcher.prompts(ex, idx))),
        search=lambda m, sync, input_ids, attention_mask: title_beam_search(
            m, input_ids, attention_mask, trie, batcher.p.eos, beam_size, constrained, sync).titles,
        to_items=p.title_items.expand, beam_size=beam_size, batch_size=batch_size)
