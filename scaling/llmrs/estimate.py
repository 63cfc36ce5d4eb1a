"""LLM-as-RS training FLOPs before a run, for `sweep submit --dry-run`: the run record's per-example formula
(scaling.llmrs.model.llm_flops_per_example) on the model's shape, built on the meta device (no weights, no memory),
once per distinct (model, LoRA) pair.

The shape comes from the model's config: the Qwen3 ladder the 2025 study used and this machine's offline aliases
are known here (no network needed to budget a cluster sweep); any other id is read with `AutoConfig` (the Hugging
Face cache or Hub), else the run is reported as not counted. Tokens per example are bounded by the run's budgets
(llm.max_prompt_tokens + llm.max_title_tokens): an upper bound, said as one.
"""
from __future__ import annotations

from functools import lru_cache
from types import SimpleNamespace

# Public config.json values (vocab 151,936, head_dim 128, 8 KV heads): hidden, MLP, layers, heads, tied embeddings
_QWEN3 = {"Qwen/Qwen3-0.6B": (1024, 3072, 28, 16, True), "Qwen/Qwen3-1.7B": (2048, 6144, 28, 16, True),
          "Qwen/Qwen3-4B": (2560, 9728, 36, 32, True), "Qwen/Qwen3-8B": (4096, 12288, 36, 32, False),
          "Qwen/Qwen3-14B": (5120, 17408, 40, 40, False)}
# The offline aliases' configs as their packages ship them (scaling.offline_models)
_ALIASES = {"smollm2": ("llama", dict(hidden_size=576, intermediate_size=1536, num_hidden_layers=30,
                                      num_attention_heads=9, num_key_value_heads=3, head_dim=64, vocab_size=49152,
                                      tie_word_embeddings=True)),
            "gemma3-270m": ("gemma3_text", dict(hidden_size=640, intermediate_size=2048, num_hidden_layers=18,
                                           num_attention_heads=4, num_key_value_heads=1, head_dim=256,
                                           vocab_size=262144, tie_word_embeddings=True))}


def model_config(name: str):
    """The model's transformers config without its weights, or None when it cannot be had here."""
    from transformers import AutoConfig

    if name in _QWEN3:
        d, ff, layers, heads, tied = _QWEN3[name]
        return AutoConfig.for_model("qwen3", hidden_size=d, intermediate_size=ff, num_hidden_layers=layers,
                                    num_attention_heads=heads, num_key_value_heads=8, head_dim=128,
                                    vocab_size=151936, tie_word_embeddings=tied)
    alias = _ALIASES.get(name)
    if alias:
        return AutoConfig.for_model(alias[0], **alias[1])
    try:
        return AutoConfig.from_pretrained(name)
    except Exception:  # noqa: BLE001 - offline, unknown id, private repo: not counted, and said so
        return None


@lru_cache(maxsize=None)
def shape(name: str, finetune: str, lora_r: int, targets: str) -> SimpleNamespace | None:
    """Parameter counts of the model as a run would train it: all, embedding, LM head, trainable (LoRA: r x (in +
    out) for every targeted linear module)."""
    import torch
    from transformers import AutoModelForCausalLM

    conf = model_config(name)
    if conf is None:
        return None
    with torch.device("meta"):
        m = AutoModelForCausalLM.from_config(conf)
    n = sum(p.numel() for p in m.parameters())
    emb, head = m.get_input_embeddings().weight, m.get_output_embeddings().weight
    wanted = {t.strip() for t in targets.split(",") if t.strip()}
    lora = sum(lora_r * (mod.in_features + mod.out_features) for name_, mod in m.named_modules()
               if isinstance(mod, torch.nn.Linear) and name_.rsplit(".", 1)[-1] in wanted)
    return SimpleNamespace(n_llm=n, n_embedding=emb.numel(), n_head=head.numel(), tied=head is emb,
                           n_trainable=n if finetune == "full" else lora)


def flops_per_example(cfg) -> float | None:
    from scaling.llmrs.model import flops_per_token_example

    s = shape(cfg.llm.name, cfg.llm.finetune, cfg.llm.lora_r, cfg.llm.lora_targets)
    if s is None:
        return None
    return flops_per_token_example(s.n_llm, s.n_embedding, s.n_head, s.tied, s.n_trainable, cfg.llm.finetune,
                                   cfg.llm.max_prompt_tokens + cfg.llm.max_title_tokens, cfg.llm.max_title_tokens)


def train_flops_estimate(cfg, data_dir: str | None = None) -> float | None:
    """At most this many training FLOPs (budgets full, every epoch run); None when the model or data is unknown here."""
    from scaling.estimate_data import train_steps

    per = flops_per_example(cfg)
    _, examples = train_steps(cfg.train, cfg.data, data_dir)
    return None if per is None or examples is None else per * examples
