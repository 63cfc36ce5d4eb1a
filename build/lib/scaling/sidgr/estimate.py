"""SID-GR training FLOPs before a run, for `sweep submit --dry-run`: the run record's per-example estimate
(scaling.params) on a model built on the meta device (no memory), ~10 history items of L+1 tokens per example.
Built once per distinct model shape, not once per run: a 4,000-run grid has a handful of shapes."""
from __future__ import annotations

from functools import lru_cache

from scaling.config import ModelConfig


@lru_cache(maxsize=None)
def _flops_per_example(model: ModelConfig, levels: int, width: int) -> float:
    import torch

    from scaling.params import train_flops_per_example
    from scaling.sidgr.model import TokenLayout, build_model

    with torch.device("meta"):
        m = build_model(model, TokenLayout([width] * levels + [8], model.n_user_buckets))
    return train_flops_per_example(m, 10 * (levels + 1), levels + 1)


def train_flops_estimate(cfg) -> float | None:
    """Training FLOPs of a run bounded by train.max_steps; None for an epoch-bounded one."""
    if not cfg.train.max_steps:
        return None
    return _flops_per_example(cfg.model, cfg.tokenizer.levels, cfg.tokenizer.width) * cfg.train.max_steps * \
        cfg.train.batch_size
