"""The one training loop: single process, torch DDP, or a DeepSpeed engine (ZeRO), ranks from the
torchrun/SLURM environment.

`train.batch_size` is the global batch: each optimizer step sees the same examples on 1 rank or 8, with or
without gradient accumulation (`train.micro_batch_size`), and its loss is that batch's mean either way.
Adam(W), linear warmup then a constant, linear or cosine schedule, optional gradient clipping, validation every `eval_every` steps with early stopping on the validation
metric, checkpoints (last + best) written atomically, and resume from the last checkpoint after a kill.
The loop knows nothing of SIDs or LLMs: it gets batches, a loss from `model(**batch).loss`, and an
`evaluate()` callable.
"""
from __future__ import annotations

import contextlib
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
from scaling.errors import ConfigError
from scaling.global_batch import BatchPlan, batch_plan
from scaling.preemption import HeldSignals
from scaling.record import atomic_torch_save, write_json


def resolve_device(want: str, local_rank: int = 0) -> str:
    """train.device (auto | cpu | cuda) -> the torch device this process uses: cuda:<local rank> when CUDA is
    there (auto) or asked for (cuda), else cpu. Decided once per process; never part of a run's id."""
    if want == "cpu":
        return "cpu"
    if torch.cuda.is_available():
        return f"cuda:{local_rank % max(torch.cuda.device_count(), 1)}"
    if want == "cuda":
        raise ConfigError("train.device=cuda but torch sees no CUDA device here; use train.device=auto or cpu")
    return "cpu"


@dataclass(frozen=True)
class Dist:
    """This process's place in the job (rank, world size) and the device it computes on."""
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    device: str = "cpu"

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @classmethod
    def from_env(cls, device: str = "auto") -> "Dist":
        env = os.environ
        local = int(env.get("LOCAL_RANK", 0))
        return cls(int(env.get("RANK", 0)), int(env.get("WORLD_SIZE", 1)), local, resolve_device(device, local))

    def on(self, device: str) -> "Dist":
        """The same place in the job on the device `train.device` asks for."""
        from dataclasses import replace

        return replace(self, device=resolve_device(device, self.local_rank))


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
    eval_seconds: float = 0.0      # validation decodes (with train_seconds: the ETA's time per step)
    examples_seen: int = 0
    tokens_seen: int = 0
    curve: list = field(default_factory=list)
    log: list = field(default_factory=list)        # the training curve: one entry every train.log_every steps
    resumed_from: list = field(default_factory=list)   # steps at which a killed run was resumed
    rank_weight_sha256: list = field(default_factory=list)
    best_per_user: dict = field(default_factory=dict)   # the best validation's per-user outcomes (lists)

    @property
    def examples_per_s(self) -> float:
        return self.examples_seen / self.train_seconds if self.train_seconds else 0.0

    @property
    def tokens_per_s(self) -> float:
        return self.tokens_seen / self.train_seconds if self.train_seconds else 0.0


def trainable_state(model: torch.nn.Module) -> dict:
    """What a checkpoint holds: every tensor, or only the trainable ones when some are frozen (LoRA:
    the frozen base model is not written into every checkpoint; it reloads from its source)."""
    params = dict(model.named_parameters())
    if all(p.requires_grad for p in params.values()):
        return model.state_dict()
    return {n: p.detach() for n, p in params.items() if p.requires_grad}


def load_trainable_state(model: torch.nn.Module, state: dict) -> None:
    partial = not all(p.requires_grad for p in model.parameters())
    missing, unexpected = model.load_state_dict(state, strict=not partial)
    if unexpected or (partial and set(state) != {n for n, p in model.named_parameters() if p.requires_grad}):
        raise RuntimeError(f"checkpoint does not match the model (unexpected: {unexpected[:3]})")


def lr_factor(cfg: TrainConfig, total: int):
    """step -> multiple of train.lr: linear warmup over `warmup_steps`, then `schedule` (constant | linear | cosine)
    down to `lr_floor` x lr at the run's last step (`total`: max_steps, else max_epochs of steps)."""
    def f(step: int) -> float:
        if cfg.warmup_steps and step < cfg.warmup_steps:
            return (step + 1) / cfg.warmup_steps
        if cfg.schedule == "constant":
            return 1.0
        span = max(total - cfg.warmup_steps, 1)
        p = min(max(step - cfg.warmup_steps, 0) / span, 1.0)
        shape = 1.0 - p if cfg.schedule == "linear" else 0.5 * (1.0 + math.cos(math.pi * p))
        return cfg.lr_floor + (1.0 - cfg.lr_floor) * shape
    return f


def n_targets(batch: dict) -> int:
    """Loss terms in a batch (labels that are not -100): the weight that makes accumulated micro-batches and
    ranks average exactly as one batch would (every paradigm's loss is a mean over its target tokens)."""
    return int((batch["labels"] != -100).sum())


def _autocast(model: torch.nn.Module, cfg: TrainConfig):
    """bf16 autocast of the forward (matmuls in bf16, reductions and weights in fp32) when train.autocast asks."""
    device = next(model.parameters()).device.type
    return torch.autocast(device, dtype=torch.bfloat16, enabled=cfg.autocast == "bfloat16")


def rng_state() -> dict:
    """The CPU and (when present) every CUDA generator's state, for a checkpoint."""
    return {"cpu": torch.get_rng_state(), "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None}


def set_rng_state(saved) -> None:
    """Restore `rng_state()`; a run saved on one kind of device may resume on another (a CPU-only
    checkpoint on a GPU leaves the CUDA generators seeded; a GPU checkpoint on a CPU drops them)."""
    if not isinstance(saved, dict):   # checkpoints before the device path held the CPU state alone
        saved = {"cpu": saved, "cuda": None}
    torch.set_rng_state(saved["cpu"].cpu())
    if saved.get("cuda") and torch.cuda.is_available() and len(saved["cuda"]) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all([s.cpu() for s in saved["cuda"]])


def _kept_state(model: torch.nn.Module, dist: Dist) -> dict | None:
    """The weights a checkpoint keeps (`trainable_state`) of whole (unpartitioned) parameters, on rank 0; None on the
    other ranks."""
    return trainable_state(model) if dist.is_main else None


def _restore(model: torch.nn.Module, path: Path, dist: Dist) -> None:
    """Kept weights back into whole (unpartitioned) parameters, on every rank."""
    load_trainable_state(model, torch.load(path, weights_only=True, map_location=dist.device))


class _TorchEngine:
    """Single process, or torch DDP when the job has several ranks. Checkpoint: one file, rank 0."""

    def __init__(self, model, cfg: TrainConfig, dist: Dist, plan: BatchPlan, total: int):
        self.model, self.dist, self.cfg = model, dist, cfg
        if dist.world_size > 1:
            on_gpu = torch.device(dist.device).type == "cuda"
            self.net = torch.nn.parallel.DistributedDataParallel(
                model, device_ids=[torch.device(dist.device).index] if on_gpu else None)
        else:
            self.net = model
        if cfg.compile:   # the training forward only (decoding keeps the eager model: other shapes, no grads);
            self.net = torch.compile(self.net)   # parameters are shared, checkpoints hold the eager model's names
        # fused: one kernel for the whole update on a GPU instead of one per parameter tensor
        self.opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=cfg.lr,
                                     weight_decay=cfg.weight_decay, fused=torch.device(dist.device).type == "cuda")
        self.sched = torch.optim.lr_scheduler.LambdaLR(self.opt, lr_factor(cfg, total))

    def step(self, micros: list) -> tuple[list, torch.Tensor | None]:
        """One optimizer step over this rank's micro-batches [(batch, weight)]: each weighted loss is backpropagated
        (DDP all-reduces once, on the last), then clipping and the update. Returns the micro losses and, when
        clipping, the gradient norm before it."""
        self.opt.zero_grad(set_to_none=True)
        losses = []
        for j, (batch, weight) in enumerate(micros):
            last = j == len(micros) - 1
            sync = contextlib.nullcontext() if last or self.dist.world_size == 1 else self.net.no_sync()
            with sync:
                with _autocast(self.model, self.cfg):
                    loss = self.net(**batch).loss
                (loss * weight).backward()
            losses.append(loss.detach())
        norm = None
        if self.cfg.clip_norm:
            norm = torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.cfg.clip_norm)
        self.opt.step()
        self.sched.step()
        return losses, norm

    def lr(self) -> float:
        return float(self.sched.get_last_lr()[0])

    def kept_state(self) -> dict | None:
        return _kept_state(self.model, self.dist)

    def restore(self, path: Path) -> None:
        _restore(self.model, path, self.dist)

    def weight_hashes(self) -> list[str]:
        return rank_weight_hashes(self.model, self.dist)

    def save(self, ckpt_dir: Path, state: dict) -> None:
        if self.dist.is_main:
            atomic_torch_save({"model": trainable_state(self.model), "opt": self.opt.state_dict(),
                                "sched": self.sched.state_dict(), "state": state, "rng": rng_state()},
                               ckpt_dir / "last.pt")

    def load(self, ckpt_dir: Path) -> dict | None:
        if not (ckpt_dir / "last.pt").is_file():
            return None
        ck = torch.load(ckpt_dir / "last.pt", weights_only=False, map_location=self.dist.device)
        load_trainable_state(self.model, ck["model"])
        self.opt.load_state_dict(ck["opt"])
        self.sched.load_state_dict(ck["sched"])
        set_rng_state(ck["rng"])
        return ck["state"]


class _DeepSpeedEngine:
    """A DeepSpeed engine (ZeRO stage from the JSON config) around the same model, optimizer and schedule.
    Checkpoints are DeepSpeed's own (every rank writes its optimizer shard)."""

    def __init__(self, model, cfg: TrainConfig, dist: Dist, plan: BatchPlan, total: int):
        import json

        import deepspeed

        if not torch.cuda.is_available():
            # On CPU, skip JIT-building the shared-memory comm op (~45 s); gloo carries the collectives.
            deepspeed.ops.__compatible_ops__["deepspeed_shm_comm"] = False
        path = Path(cfg.deepspeed_config)
        if not path.is_absolute():   # relative to the repository (a checkout), else the shipped copy (a wheel)
            from scaling.shipped import shipped

            path = shipped(str(path)) or Path(__file__).resolve().parents[1] / path
        if not path.is_file():
            raise ConfigError(f"train.deepspeed_config: {path} not found (see slurm/deepspeed/)")
        ds = json.loads(path.read_text())   # ZeRO-3 too: every rank decodes in lockstep (scaling.decode)
        clip = ds.get("gradient_clipping", 0.0)
        if clip and clip != cfg.clip_norm:   # the run's recipe is its config (and id), not a JSON beside it
            raise ConfigError(f"{path}: sets gradient_clipping={clip}, the run's train.clip_norm={cfg.clip_norm}; "
                              "set train.clip_norm and leave gradient_clipping out of the JSON")
        # the global batch from the config: DeepSpeed accumulates `accum` micro-batches per step itself
        ds.update({"train_micro_batch_size_per_gpu": plan.micro, "gradient_accumulation_steps": plan.accum,
                   "train_batch_size": cfg.batch_size, "gradient_clipping": cfg.clip_norm})
        self.model, self.dist, self.cfg = model, dist, cfg
        opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=cfg.lr,
                                weight_decay=cfg.weight_decay)
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_factor(cfg, total))
        self.engine, _, _, _ = deepspeed.initialize(model=model, optimizer=opt, lr_scheduler=sched, config=ds)

    def step(self, micros: list) -> tuple[list, torch.Tensor | None]:
        losses = []
        for batch, weight in micros:   # the engine steps the optimizer at the accumulation boundary
            loss = self.engine(**batch).loss
            # DeepSpeed divides the loss by gradient_accumulation_steps; the weights already average
            self.engine.backward(loss * weight * len(micros))
            self.engine.step()
            losses.append(loss.detach())
        norm = self.engine.get_global_grad_norm() if self.cfg.clip_norm else None
        return losses, (torch.as_tensor(float(norm)) if norm is not None else None)

    def lr(self) -> float:
        return float(self.engine.get_lr()[0])

    @property
    def partitioned(self) -> bool:   # ZeRO-3: each rank holds a shard of every parameter
        return bool(self.engine.zero_optimization_partition_weights())

    def kept_state(self) -> dict | None:
        """Rank 0's copy of the kept weights. ZeRO-3: DeepSpeed's own consolidation, one module's parameters gathered
        at a time onto rank 0 and moved to its CPU (`_zero3_consolidated_16bit_state_dict`: the weights in the dtype
        they train in), so no rank ever holds the whole model. Every rank must call it."""
        if not self.partitioned:
            return _kept_state(self.model, self.dist)
        partial = not all(p.requires_grad for p in self.model.parameters())
        sd = self.engine._zero3_consolidated_16bit_state_dict(exclude_frozen_parameters=partial)
        if sd is None or not partial:
            return sd
        names = {n for n, p in self.model.named_parameters() if p.requires_grad}
        return {k: v for k, v in sd.items() if k in names}

    def restore(self, path: Path) -> None:
        """The kept weights back into the model. ZeRO-3: rank 0 reads the file and writes each module's parameters
        while that module alone is gathered; leaving the gather broadcasts them and re-partitions."""
        if not self.partitioned:
            _restore(self.model, path, self.dist)
            return
        import deepspeed

        state = torch.load(path, weights_only=True, map_location="cpu") if self.dist.is_main else None
        for prefix, module in self.model.named_modules():
            own = list(module.named_parameters(prefix=prefix, recurse=False))
            if not own:
                continue
            with deepspeed.zero.GatheredParameters([p for _, p in own], modifier_rank=0):
                if self.dist.is_main:
                    with torch.no_grad():
                        for name, p in own:
                            if name in state:
                                p.data.copy_(state[name].to(p.device, p.dtype))

    def weight_hashes(self) -> list[str]:
        """Every rank's weight hash (ZeRO-1/2: replicated weights), or under ZeRO-3 one hash of the consolidated
        model, on rank 0 (partitions differ by design; gathering the whole model to hash it is what is avoided)."""
        if not self.partitioned:
            return rank_weight_hashes(self.model, self.dist)
        sd = self.engine._zero3_consolidated_16bit_state_dict()
        out = [state_sha256(sd) if sd is not None else ""]
        torch_dist.broadcast_object_list(out, 0)
        return out

    def save(self, ckpt_dir: Path, state: dict) -> None:
        self.engine.save_checkpoint(str(ckpt_dir / "deepspeed"), tag="last",
                                    client_state={"state": state, "rng": rng_state()})
        if self.dist.is_main:   # the marker resume looks for, written after every rank has saved
            atomic_torch_save({"tag": "last", "world_size": self.dist.world_size}, ckpt_dir / "last.pt")

    def load(self, ckpt_dir: Path) -> dict | None:
        if not (ckpt_dir / "last.pt").is_file():
            return None
        saved = torch.load(ckpt_dir / "last.pt", weights_only=False).get("world_size", self.dist.world_size)
        if saved != self.dist.world_size:   # ZeRO's optimizer shards are per rank
            raise ConfigError(f"{ckpt_dir}: DeepSpeed checkpointed this run on {saved} ranks; resume it on {saved} "
                              f"ranks (this job has {self.dist.world_size}), or delete {ckpt_dir} to start over")
        _, client = self.engine.load_checkpoint(str(ckpt_dir / "deepspeed"), tag="last")
        set_rng_state(client["rng"])
        return client["state"]


def progress_summary(state: TrainState, cfg: TrainConfig, metric: str, total: int) -> dict:
    """Where a run stands, for `ckpt/progress.json` (written with every checkpoint; `gr-scaling sweep status`
    shows it): the step, the best validation so far, the rate, and an ETA when a step limit bounds the run (a run
    stopped by validation may end sooner: `bad_evals` of `patience` says how near)."""
    per_step = (state.train_seconds + state.eval_seconds) / state.step if state.step else 0.0
    eta = (total - state.step) * per_step if cfg.max_steps and per_step else None
    return {"step": state.step, "epoch": state.epoch, "max_steps": cfg.max_steps, "metric": metric,
            "best": state.best_metric if state.curve else None, "best_step": state.best_step,
            "bad_evals": state.bad_evals, "patience": cfg.patience, "stopped_early": state.stopped_early,
            "examples_per_s": state.examples_per_s, "eta_s": eta, "time": time.time(), "curve": state.curve,
            "last_log": state.log[-1] if state.log else None}


def train(model: torch.nn.Module, cfg: TrainConfig, *, make_batches: Callable[[int], list],
          batch_fn: Callable[[np.ndarray], dict], evaluate: Callable[[torch.nn.Module], dict],
          metric: str, ckpt_dir: Path, seed: int, dist: Dist | None = None,
          progress: bool = True, curves=None) -> TrainState:
    """Train until max_epochs/max_steps or early stop; leaves the best weights in `model`.

    make_batches(epoch) -> list of global batches, index arrays of train.batch_size examples (the same on every
    rank; each step splits one over ranks x accumulation steps: `batch_plan`, `micro_batches`);
    batch_fn(indices) -> model kwargs as CPU tensors (moved to the device here, in one place);
    evaluate(model) -> metrics dict containing `metric`, and optionally `per_user` outcomes (kept for the best
    step in `state.best_per_user`, not in the curve) and `serving` (dropped). Every rank calls it (each decodes
    a share of the users: scaling.decode), so ZeRO-3's partitioned weights can validate.
    Every `cfg.log_every` steps the mean training loss since the last log (rank 0's, under DDP), the learning rate
    and the rates are appended to `state.log` (checkpointed with the state, so a resumed run's curve has each logged step once) and
    sent to `curves` (TensorBoard; scaling.curves), with every validation.
    """
    dist = dist or Dist()
    device = torch.device(dist.device)
    model.to(device)   # the engine's optimizer and DDP wrap the placed parameters
    if dist.world_size > 1 and cfg.backend == "single":
        raise ConfigError(f"train.backend=single but this job has {dist.world_size} ranks; set train.backend=ddp")
    ckpt_dir.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(seed)
    plan = batch_plan(cfg, dist.world_size)
    n_per_epoch = len(make_batches(0))   # global batches: the same steps whatever the world size
    total = cfg.max_steps or cfg.max_epochs * n_per_epoch
    engine = (_DeepSpeedEngine if cfg.backend == "deepspeed" else _TorchEngine)(model, cfg, dist, plan, total)
    state = TrainState()
    best = ckpt_dir / "best.pt"
    loaded = engine.load(ckpt_dir)   # resume after a kill (global positions: any world size, same steps)
    if loaded is not None:
        state = TrainState(**loaded)
        state.resumed_from.append(state.step)
    if curves is not None:   # a resumed run drops what the killed process logged past its checkpoint, then logs it again
        curves.open(state.step + 1 if state.step else 0)
    def empty_window() -> dict:
        return {"loss": torch.zeros((), device=device), "steps": 0, "examples": 0, "tokens": 0, "seconds": 0.0,
                "grad_norm": torch.zeros((), device=device)}

    window = empty_window()
    def log_train():
        """One point of the training curve: the window's mean loss (one device sync per log, not per step)."""
        n = window["steps"]
        point = {"step": state.step, "examples": state.examples_seen, "loss": float(window["loss"]) / n,
                 "lr": engine.lr(), "examples_per_s": window["examples"] / max(window["seconds"], 1e-9),
                 "tokens_per_s": window["tokens"] / max(window["seconds"], 1e-9)}
        if cfg.clip_norm:
            point["grad_norm"] = float(window["grad_norm"]) / n
        state.log.append(point)
        if curves is not None:
            curves.train(point)
        window.update(empty_window())

    def checkpoint():
        engine.save(ckpt_dir, asdict(state))
        if dist.is_main:
            write_json(ckpt_dir / "progress.json", progress_summary(state, cfg, metric, total))
        if curves is not None:   # a tracker sends what the checkpoint now holds (scaling.trackers: exactly once)
            curves.checkpointed(state.step)

    def validate():
        t0 = time.perf_counter()
        model.eval()
        m = evaluate(model)
        model.train()
        state.eval_seconds += time.perf_counter() - t0
        per_user = m.pop("per_user", None)
        m.pop("serving", None)
        score = torch.tensor([m.get(metric, 0.0)], device=device)   # nccl collectives take device tensors
        if dist.world_size > 1:   # every rank decoded the same users; rank 0's score decides for all
            torch_dist.broadcast(score, 0)
        score = float(score)
        state.curve.append({"step": state.step, "epoch": state.epoch, "examples": state.examples_seen, **m})
        if curves is not None:
            curves.valid(state.step, state.examples_seen, m)
        if score > state.best_metric:
            state.best_metric, state.best_step, state.bad_evals = score, state.step, 0
            state.best_per_user = {k: v.tolist() for k, v in per_user.items()} if per_user else {}
            kept = engine.kept_state()   # every rank takes part (ZeRO-3); rank 0 writes
            if dist.is_main:
                atomic_torch_save(kept, best)
        else:
            state.bad_evals += 1
        return m

    pin = device.type == "cuda"
    bar = tqdm(total=total, initial=state.step, desc="train", unit="step", disable=not (progress and dist.is_main))

    def to_device(batch: dict) -> dict:   # pinned: the copy overlaps the previous step's kernels
        return {k: (v.pin_memory() if pin else v).to(device, non_blocking=True) if torch.is_tensor(v) else v
                for k, v in batch.items()}

    def micro_batches(idx: np.ndarray, stop: bool) -> tuple[list, list, int, int, bool]:
        """This rank's share of a global batch as [(batch, weight)], each micro-batch's share of this rank's targets,
        the global batch's tokens and examples, and whether any rank holds a signal to stop (`stop`: this rank's).
        The batch splits into ranks x accum micro-batches; each loss is weighted by its share of the global batch's
        target tokens (x world size: DDP and DeepSpeed average over ranks), so any plan computes one batch's mean
        loss. A rank left without examples (a short last batch) runs one example at weight 0 to stay in step."""
        parts = np.array_split(idx, dist.world_size * plan.accum)[dist.rank * plan.accum:(dist.rank + 1) * plan.accum]
        built = [(batch_fn(p if len(p) else idx[:1]), len(p) > 0) for p in parts]
        counts = torch.tensor([[n_targets(b) if real else 0 for b, real in built],
                               [int(b["attention_mask"].sum()) if real else 0 for b, real in built]], dtype=torch.float64)
        sums = torch.cat([counts.sum(1), torch.tensor([float(stop)], dtype=torch.float64)])
        if dist.world_size > 1:   # the global batch's target and token counts, any rank's stop (one collective a step)
            sums = sums.to(device)
            torch_dist.all_reduce(sums)
            sums = sums.cpu()
        weights = (counts[0] * dist.world_size / sums[0].clamp(min=1)).tolist()
        mine = (counts[0] / counts[0].sum().clamp(min=1)).tolist()   # for the logged loss: this rank's mean
        return [(to_device(b), w) for (b, _), w in zip(built, weights)], mine, int(sums[1]), len(idx), bool(sums[2])

    model.train()
    done = state.stopped_early or state.step >= total
    with HeldSignals() as signals:   # SIGTERM / SIGUSR2 wait for a step boundary (scaling.preemption)
        while not done and state.epoch < cfg.max_epochs:
            batches = make_batches(state.epoch)
            for i in range(state.batch_in_epoch, len(batches)):
                t0 = time.perf_counter()
                micros, mine, tokens, examples, stop = micro_batches(batches[i], signals.requested)
                if stop:   # SLURM is ending the job: save this step on every rank, then let the signal act
                    t_ck = time.perf_counter()
                    checkpoint()
                    signals.pass_on()
                    t0 += time.perf_counter() - t_ck
                losses, norm = engine.step(micros)
                loss = sum(l.float() * w for l, w in zip(losses, mine))   # rank 0's is logged
                dt = time.perf_counter() - t0
                state.train_seconds += dt
                state.examples_seen += examples
                state.tokens_seen += tokens
                state.step += 1
                state.batch_in_epoch = i + 1
                window["loss"] += loss.float()
                window["steps"] += 1
                window["examples"] += examples
                window["tokens"] += tokens
                window["seconds"] += dt
                if norm is not None:
                    window["grad_norm"] += norm.detach().float().to(device)
                if state.step % cfg.log_every == 0:
                    log_train()
                    bar.set_postfix(loss=f"{state.log[-1]['loss']:.3f}", best=f"{state.best_metric:.4f}")
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
        if window["steps"]:
            log_train()   # the last partial window
        if not state.curve or state.curve[-1]["step"] != state.step:
            validate()   # always validate the final weights
            checkpoint()
        if signals.requested:   # held through the last step's validation: the step is saved, let the signal act
            signals.pass_on()   # (not dropped with the hold, which would carry the job on into its final decodes)
    bar.close()
    if curves is not None:
        curves.close({f"best/{metric}": state.best_metric} if state.curve else None)
    if dist.world_size > 1:
        torch_dist.barrier()   # rank 0 may still be writing best.pt
    state.rank_weight_sha256 = engine.weight_hashes()   # last-step weights
    if best.is_file():
        engine.restore(best)
    return state


def weights_sha256(model: torch.nn.Module) -> str:
    return state_sha256(model.state_dict())


def state_sha256(state: dict) -> str:
    import hashlib

    h = hashlib.sha256()
    for name, t in sorted(state.items()):
        h.update(name.encode())
        h.update(t.detach().cpu().contiguous().reshape(-1).view(torch.uint8).numpy().tobytes())   # any dtype
    return h.hexdigest()


def rank_weight_hashes(model: torch.nn.Module, dist: Dist) -> list[str]:
    """Every rank's weight hash (gathered on all ranks): equal hashes show the ranks stayed in sync."""
    mine = weights_sha256(model)
    if dist.world_size == 1:
        return [mine]
    out: list = [None] * dist.world_size
    torch_dist.all_gather_object(out, mine)
    return out
