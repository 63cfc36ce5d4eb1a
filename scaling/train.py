"""The one training loop: single process or torch DDP (ranks from torchrun/SLURM environment).

Adam(W), linear warmup, validation every `eval_every` steps with early stopping on the validation
metric, checkpoints (last + best) written atomically, and resume from the last checkpoint after a kill.
The loop knows nothing of SIDs or LLMs: it gets batches, a loss from `model(**batch).loss`, and an
`evaluate()` callable.
"""
from __future__ import annotations

import math
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import torch
import torch.distributed as torch_dist
from tqdm.auto import tqdm

from scaling.config import TrainConfig


@dataclass
class Dist:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @classmethod
    def from_env(cls) -> "Dist":
        env = os.environ
        return cls(int(env.get("RANK", 0)), int(env.get("WORLD_SIZE", 1)), int(env.get("LOCAL_RANK", 0)))


@dataclass
class TrainState:
    step: int = 0
    epoch: int = 0
    batch_in_epoch: int = 0
    best_metric: float = -math.inf
    best_step: int = 0
    bad_evals: int = 0
    stopped_early: bool = False
    train_seconds: float = 0.0
    examples_seen: int = 0
    tokens_seen: int = 0
    curve: list = field(default_factory=list)
    resumed_from: list = field(default_factory=list)   # steps at which a killed run was resumed


def _atomic_torch_save(obj, path: Path) -> None:
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    torch.save(obj, tmp)
    os.replace(tmp, path)


def _lr_lambda(cfg: TrainConfig):
    return lambda step: min(1.0, (step + 1) / cfg.warmup_steps) if cfg.warmup_steps else 1.0


def train(model: torch.nn.Module, cfg: TrainConfig, *, make_batches: Callable[[int], list],
          batch_fn: Callable[[np.ndarray], dict], evaluate: Callable[[torch.nn.Module], dict],
          metric: str, ckpt_dir: Path, seed: int, dist: Dist | None = None,
          progress: bool = True) -> TrainState:
    """Train until max_epochs/max_steps or early stop; leaves the best weights in `model`.

    make_batches(epoch) -> list of index arrays (same on every rank; rank r takes every world_size-th);
    batch_fn(indices) -> model kwargs; evaluate(model) -> metrics dict containing `metric`.
    """
    dist = dist or Dist()
    ckpt_dir.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(seed)
    net = model
    if dist.world_size > 1:
        net = torch.nn.parallel.DistributedDataParallel(model)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, _lr_lambda(cfg))
    state = TrainState()
    last, best = ckpt_dir / "last.pt", ckpt_dir / "best.pt"
    if last.is_file():  # resume after a kill
        ck = torch.load(last, weights_only=False)
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["opt"])
        sched.load_state_dict(ck["sched"])
        state = TrainState(**ck["state"])
        torch.set_rng_state(ck["rng"])
        state.resumed_from.append(state.step)

    def checkpoint():
        if dist.is_main:
            _atomic_torch_save({"model": model.state_dict(), "opt": opt.state_dict(), "sched": sched.state_dict(),
                                "state": asdict(state), "rng": torch.get_rng_state()}, last)

    def validate():
        model.eval()
        m = evaluate(model) if dist.is_main else {}
        model.train()
        score = torch.tensor([m.get(metric, 0.0)])
        if dist.world_size > 1:
            torch_dist.broadcast(score, 0)
        score = float(score)
        state.curve.append({"step": state.step, "epoch": state.epoch, **m})
        if score > state.best_metric:
            state.best_metric, state.best_step, state.bad_evals = score, state.step, 0
            if dist.is_main:
                _atomic_torch_save(model.state_dict(), best)
        else:
            state.bad_evals += 1
        return m

    n_per_epoch = len(make_batches(0)) // dist.world_size
    total = cfg.max_steps or cfg.max_epochs * n_per_epoch
    bar = tqdm(total=total, initial=state.step, desc="train", unit="step", disable=not (progress and dist.is_main))
    model.train()
    done = state.stopped_early or state.step >= total
    while not done and state.epoch < cfg.max_epochs:
        batches = make_batches(state.epoch)[dist.rank::dist.world_size][:n_per_epoch]
        for i in range(state.batch_in_epoch, len(batches)):
            t0 = time.perf_counter()
            batch = batch_fn(batches[i])
            loss = net(**batch).loss
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            state.train_seconds += time.perf_counter() - t0
            state.examples_seen += len(batches[i]) * dist.world_size
            state.tokens_seen += int(batch["attention_mask"].sum()) * dist.world_size
            state.step += 1
            state.batch_in_epoch = i + 1
            bar.update(1)
            if state.step % cfg.eval_every == 0:
                m = validate()
                bar.set_postfix(loss=f"{loss.item():.3f}", **{metric: f"{m.get(metric, float('nan')):.4f}"},
                                best=f"{state.best_metric:.4f}")
                if state.bad_evals >= cfg.patience:
                    state.stopped_early = True
                checkpoint()
            if state.stopped_early or state.step >= total:
                done = True
                break
        if not done:
            state.epoch += 1
            state.batch_in_epoch = 0
    if not state.curve or state.curve[-1]["step"] != state.step:
        validate()   # always validate the final weights
        checkpoint()
    bar.close()
    if dist.world_size > 1:
        torch_dist.barrier()   # rank 0 may still be writing best.pt
    if best.is_file():
        model.load_state_dict(torch.load(best, weights_only=True))
    return state
