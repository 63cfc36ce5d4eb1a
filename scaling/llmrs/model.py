"""Load a causal LLM (offline alias, local directory or Hugging Face id) for full or LoRA fine-tuning."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from scaling.config import LLMConfig
from scaling.errors import ConfigError
from scaling.offline_models import not_found, resolve


@dataclass
class LoadedLLM:
    tokenizer: object
    model: torch.nn.Module          # the peft model under LoRA
    n_llm: int                      # all parameters of the pretrained LLM
    n_embedding: int                # its input-embedding parameters
    n_head: int                     # LM-head matmul size (vocab x d), tied or not
    n_trainable: int
    context: int                    # maximum positions
    identity: str


def lora_targets(cfg: LLMConfig) -> list[str]:
    return [t.strip() for t in cfg.lora_targets.split(",") if t.strip()]


def _check_targets(model: torch.nn.Module, targets: list[str], name: str) -> None:
    linear = sorted({n.rsplit(".", 1)[-1] for n, m in model.named_modules()
                     if isinstance(m, torch.nn.Linear) and n.rsplit(".", 1)[-1] != "lm_head"})
    missing = [t for t in targets if t not in linear]
    if missing:
        raise ConfigError(f"llm.lora_targets: {', '.join(missing)} not in model '{name}'; its linear modules are: "
                          f"{', '.join(linear)}")


def load_llm(cfg: LLMConfig, cache_root: Path, new_tokens: list[str] | None = None) -> LoadedLLM:
    """`new_tokens`: added to the vocabulary (SIDs: scaling.llmrs.sid_items), one new embedding row each, trained
    under LoRA too (PEFT's trainable tokens: only those rows, tied to the LM head where the model ties them)."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    src = resolve(cfg.name, cache_root)
    kw = {"gguf_file": src.gguf_file} if src.gguf_file else {}
    try:
        tok = AutoTokenizer.from_pretrained(src.path, **kw)
        if cfg.init == "random":   # the shape only: config + tokenizer, no weights read
            from transformers import AutoConfig

            model = AutoModelForCausalLM.from_config(AutoConfig.from_pretrained(src.path, **kw),
                                                     dtype=getattr(torch, cfg.dtype))
        else:
            model = AutoModelForCausalLM.from_pretrained(src.path, dtype=getattr(torch, cfg.dtype), **kw)
    except OSError as e:
        raise not_found(cfg.name, e) from None
    n_llm = sum(p.numel() for p in model.parameters())
    emb = model.get_input_embeddings().weight
    head = model.get_output_embeddings().weight
    context = int(getattr(model.config, "max_position_embeddings", 0) or getattr(tok, "model_max_length", 2048))
    new_ids: list[int] = []
    if new_tokens:
        before = len(tok)
        tok.add_tokens(new_tokens, special_tokens=True)   # special: never split, never merged with a neighbour
        new_ids = tok.convert_tokens_to_ids(new_tokens)
        if min(new_ids) < before:
            raise ConfigError(f"model '{cfg.name}': its vocabulary already has a token named like a SID token "
                              f"({new_tokens[0]} ...)")
        # new rows start at the mean of the old ones (transformers' default), so the LLM's first guesses are neutral
        model.resize_token_embeddings(len(tok))
        if not _tied_base(model) and cfg.finetune == "lora":
            raise ConfigError(f"llm.item_repr=sid with LoRA needs a model whose LM head is tied to its input "
                              f"embeddings (PEFT trains the new rows of both through the tie); '{cfg.name}' is not "
                              "tied: use llm.finetune=full")
    if cfg.gradient_checkpointing:   # non-reentrant: works with a frozen base (LoRA) without input grads
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    if cfg.finetune == "lora":
        from peft import LoraConfig, get_peft_model

        targets = lora_targets(cfg)
        _check_targets(model, targets, cfg.name)
        model = get_peft_model(model, LoraConfig(r=cfg.lora_r, lora_alpha=cfg.lora_alpha, lora_dropout=cfg.lora_dropout,
                                                 target_modules=targets, task_type="CAUSAL_LM",
                                                 trainable_token_indices=new_ids or None))
    n_trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return LoadedLLM(tok, model, n_llm, emb.numel(), head.numel(), n_trainable, context, src.identity)


def llm_flops_per_example(llm: LoadedLLM, finetune: str, tokens: float, target_tokens: float) -> float:
    """Training FLOPs per example of a loaded model (`flops_per_token_example`)."""
    return flops_per_token_example(llm.n_llm, llm.n_embedding, llm.n_head, _tied(llm), llm.n_trainable, finetune,
                                   tokens, target_tokens)


def flops_per_token_example(n_llm: int, n_embedding: int, n_head: int, tied: bool, n_trainable: int, finetune: str,
                            tokens: float, target_tokens: float) -> float:
    """Training FLOPs per example (Kaplan's 2N forward + 4N backward per parameter per token). Full
    fine-tuning: 6N. LoRA: the frozen weights need no weight gradients, only activation gradients,
    so 4N for them plus 6 per adapter parameter. The body sees every token; the LM head only the
    target tokens (+1) whose logits the batch asks for. Attention's context term is left out. Also the dry run's
    estimate before a run, from the model's shape alone (scaling.llmrs.estimate)."""
    body = n_llm - n_embedding - (0 if tied else n_head)
    k = 6.0 if finetune == "full" else 4.0
    adapters = 0 if finetune == "full" else n_trainable
    return k * body * tokens + k * n_head * (target_tokens + 1) + 6.0 * adapters * tokens


def _tied(llm: LoadedLLM) -> bool:
    return _tied_base(llm.model.get_base_model() if hasattr(llm.model, "get_base_model") else llm.model)


def _tied_base(m) -> bool:
    inp, out = m.get_input_embeddings(), m.get_output_embeddings()
    inp, out = getattr(inp, "base_layer", inp), getattr(out, "base_layer", out)   # PEFT's trainable-token wrappers
    return inp.weight.data_ptr() == out.weight.data_ptr()


def llm_decode_flops_per_user(llm: LoadedLLM, prompt_tokens: float, title_tokens: float, beam_size: int) -> float:
    """Forward FLOPs to recommend to one user by title beam search (2 per parameter per token it
    processes; attention's context term left out): the prompt once through the body with the LM head on
    its last position only (`logits_to_keep=1`), then each further title token (eos included, mean
    `title_tokens` per title) for `beam_size` beams through body and head. An upper count: beams that
    finish early drop out of the batch. The trie constraint adds only gathers over allowed tokens."""
    body = llm.n_llm - llm.n_embedding - (0 if _tied(llm) else llm.n_head)
    prefill = 2.0 * body * prompt_tokens + 2.0 * llm.n_head
    return prefill + max(title_tokens - 1.0, 0.0) * beam_size * 2.0 * (body + llm.n_head)
