"""The one run skeleton both paradigms share: prepared bundle -> train -> decode -> record.

A paradigm (scaling.sidgr.pipeline, scaling.llmrs.pipeline) turns a config into a `Bundle` — its model,
its examples, how to batch them for training and how to decode them (a `Decoder`) — as torchtitan's
per-model spec feeds its one trainer. Everything after that is written here once: batch order,
the training loop, validation on a fixed user sample, the final decode of validation and test users,
most-popular beside them, per-user outcomes, serving cost and throughput.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from scaling.config import RunConfig, flatten
from scaling.curves import columnar
from scaling.trackers import make_curves
from scaling.data.split import Split
from scaling.decode import Decoder, evaluate
from scaling.evaluation import best_validation, cold_metrics, final_metrics, popular_metrics
from scaling.sidgr.batching import batch_order
from scaling.train import Dist, TrainState, train


@dataclass
class Bundle:
    split: Split                                   # train / valid / test examples as the paradigm sees them
    data: dict                                     # data.json
    timing: dict                                   # seconds of the paradigm's own preparation stages
    model: object = None                           # None: a baseline with nothing to train (most-popular)
    decoder: Decoder | None = None
    train_lengths: np.ndarray | None = None        # per training example, for length-bucketed batches
    batch_fn: Callable[[np.ndarray], dict] | None = None   # example indices -> model kwargs (CPU tensors)
    params: Callable[[TrainState], dict] = field(default=lambda state: {})   # params.json, once trained
    serving_flops: Callable[[], dict] | None = None   # decode FLOPs per user from the model's shape
    export: Callable[[dict, Path], None] | None = None   # (kept weights, dir) -> the model in its library's format


def train_and_record(cfg: RunConfig, b: Bundle, run_dir: Path, dist: Dist | None = None,
                     progress: bool = True) -> dict:
    """Train the bundle's model and evaluate it; returns what the run record holds (metrics, params,
    timing, data, outcomes, serving)."""
    dist = dist or Dist()
    ev, timing = cfg.eval, dict(b.timing)
    if b.model is None:   # the baseline as its own row: no model, same split and evaluation users
        metrics, outcomes = popular_metrics(b.split, ev.test_users, prefix="")
        outcomes = {s: {**o, "rank": o["popular_rank"]} for s, o in outcomes.items()}   # its recommendations
        metrics.update({k: v for k, v in cold_metrics(outcomes, ev.cold_max).items() if "/popular/" not in k})
        return {"metrics": metrics, "params": b.params(TrainState()), "data": b.data, "timing": timing,
                "outcomes": outcomes}

    def make_batches(epoch: int):
        rng = np.random.default_rng([cfg.seed, epoch])
        return batch_order(b.train_lengths, cfg.train.batch_size, rng, cfg.train.bucket_by_length)

    valid_small = b.split.valid.sample(ev.valid_users)
    curves = make_curves(cfg.train, run_dir, flatten(cfg.to_dict())) if dist.is_main else None
    t = time.perf_counter()
    state = train(b.model, cfg.train, make_batches=make_batches, batch_fn=b.batch_fn,
                  evaluate=lambda m: evaluate(b.decoder, valid_small, progress, "validate", dist),
                  metric=cfg.train.select_metric,
                  ckpt_dir=run_dir / "ckpt", seed=cfg.seed, dist=dist, progress=progress, curves=curves)
    timing["train_s"] = time.perf_counter() - t
    best = run_dir / "ckpt" / "best.pt"
    if dist.is_main and b.export is not None and best.is_file():   # from the kept file: nothing is gathered
        import torch

        b.export(torch.load(best, weights_only=True, map_location="cpu"), run_dir / "ckpt" / "best")
    timing["train_examples_per_s"] = state.examples_per_s
    timing["train_tokens_per_s"] = state.tokens_per_s
    timing["device"] = dist.device
    timing["world_size"] = dist.world_size
    timing["train_device_seconds"] = state.train_seconds * dist.world_size   # one device per rank
    # train_s and wall_s time this process; a resumed run's earlier processes count only in the checkpointed
    # clocks: training steps and validations of every process together
    timing["train_eval_s"] = state.train_seconds + state.eval_seconds

    metrics: dict = {"curve": state.curve, "best_step": state.best_step, "steps": state.step,
                     "stopped_early": state.stopped_early, "resumed_from": state.resumed_from,
                     "rank_weight_sha256": state.rank_weight_sha256, "world_size": dist.world_size}
    t = time.perf_counter()   # every rank decodes its share (scaling.decode); rank 0 writes the record
    m, outcomes, serving = final_metrics(b.decoder, b.split, ev.test_users,
                                         best_validation(state, ev.valid_users, ev.test_users), progress, dist,
                                         ev.cold_max)
    metrics.update(m)
    timing["eval_s"] = time.perf_counter() - t
    if b.serving_flops is not None:   # parameters counted whole, never gathered (scaling.params.numel)
        serving.update(b.serving_flops())
    params = b.params(state)
    return {"metrics": metrics, "params": params, "timing": timing, "data": b.data, "outcomes": outcomes,
            "serving": serving, "curves": {"train": columnar(state.log), "valid": columnar(state.curve),
                                           "log_every": cfg.train.log_every, "best_step": state.best_step}}
