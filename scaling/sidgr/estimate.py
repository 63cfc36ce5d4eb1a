"""SID-GR training FLOPs before a run, for `sweep submit --dry-run`: the run record's per-example estimate
(scaling.params) on a model built on the meta device (no memory), ~10 history items of L+1 tokens per example,
times the examples it trains on (scaling.estimate_data).
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


def train_flops_estimate(cfg, data_dir: str | None = None) -> float | None:
    """Training FLOPs of a run: max_steps of its global batch, or at most max_epochs of its data's examples (early
    stopping ends most such runs sooner); None when an epoch-bounded run's data cannot be read here."""
    from scaling.estimate_data import train_steps

    _, examples = train_steps(cfg.train, cfg.data, data_dir)
    if examples is None:
        return None
    return _flops_per_example(cfg.model, cfg.tokenizer.levels, cfg.tokenizer.width) * examples
