"""The global batch over ranks and accumulation steps (torch-free: the launcher checks every run of a sweep against
its profile's ranks before submitting)."""
from __future__ import annotations

from dataclasses import dataclass

from scaling.config import TrainConfig
from scaling.errors import ConfigError


@dataclass(frozen=True)
class BatchPlan:
    """How one optimizer step's global batch (`train.batch_size` examples, the experiment) is computed here:
    `world_size` ranks, each running `accum` forwards of `micro` examples. Where a run executes changes this plan,
    never the examples a step sees, so it is not part of the run's id."""
    world_size: int
    micro: int
    accum: int


def batch_plan(cfg: TrainConfig, world_size: int) -> BatchPlan:
    """train.batch_size / (ranks x train.micro_batch_size) accumulation steps, or a one-line ConfigError."""
    if cfg.batch_size % world_size:
        raise ConfigError(f"train.batch_size={cfg.batch_size} does not split over {world_size} ranks; give a "
                          f"multiple of {world_size} (it is the global batch, whatever the number of ranks)")
    per_rank = cfg.batch_size // world_size
    micro = cfg.micro_batch_size or per_rank
    if per_rank % micro:
        raise ConfigError(f"train.micro_batch_size={micro} does not divide the {per_rank} examples each of "
                          f"{world_size} rank(s) computes per step (train.batch_size={cfg.batch_size}); choose a "
                          "divisor, or 0 for batch_size / ranks")
    return BatchPlan(world_size, micro, per_rank // micro)
