"""The one decode loop over evaluation users, shared by both paradigms.

A paradigm supplies a `Decoder`: how long each example's input is (to batch similar lengths), how to
build a batch's input tensors on the CPU, its batched search (SID beam search or title beam search)
and how its results map to item ids. This loop does the rest, once: length-sorted batches, moving each
batch's inputs to the model's device and the results back, eval mode, progress, and what the decode
cost (seconds, users/s, peak memory) — the serving cost a run record keeps.

In a multi-rank job every rank decodes: rank r takes every world_size-th batch and the results are gathered,
so every rank returns every user's top items (the same batches as one process decodes, so the same results).
Ranks stay in lockstep — the same number of batches (a rank short of one decodes a dummy batch) and, through
the `sync` callable each search receives, the same number of forward calls per batch — because under
DeepSpeed ZeRO-3 every forward gathers parameter shards from all ranks (as transformers' `synced_gpus`).
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch
import torch.distributed as torch_dist
from tqdm.auto import tqdm

from scaling.data.split import Examples
from scaling.metrics import rank_of_target, ranking_metrics


@dataclass
class Decoder:
    model: torch.nn.Module
    lengths: Callable[[Examples], np.ndarray]                    # per example: input length (tokens or items)
    inputs: Callable[[Examples, np.ndarray], dict]               # example indices -> CPU tensors (model kwargs)
    search: Callable[..., torch.Tensor]                          # search(model, sync, **inputs on device) -> (B, K') ids
    to_items: Callable[[np.ndarray, int], np.ndarray]            # (B, K') ids, k -> (B, k) item ids (-1 = none)
    beam_size: int
    batch_size: int


@dataclass
class Decoded:
    top: np.ndarray            # (n, beam_size) item ids, best first; -1 = invalid / none
    seconds: float
    peak_memory_bytes: int | None   # CUDA: max allocated; CPU: peak resident set of the process during decode
    device: str


def model_device(model: torch.nn.Module) -> torch.device:
    p = next(model.parameters(), None)
    return p.device if p is not None else torch.device("cpu")


def _reset_peak(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
        return
    try:   # Linux: writing 5 resets this process's peak RSS (VmHWM) to its current RSS
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


def _peak(device: torch.device) -> int | None:
    if device.type == "cuda":
        return int(torch.cuda.max_memory_allocated(device))
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def lockstep(device: torch.device) -> Callable[[bool], bool]:
    """sync(done) -> whether every rank is done: one all-reduce, which every rank calls the same number of times.
    A search whose number of forward calls depends on its batch (title beam search) calls it once per step
    and, once done, keeps making dummy forwards until every rank is."""
    def all_done(done: bool) -> bool:
        t = torch.tensor([int(done)], device=device)
        torch_dist.all_reduce(t, op=torch_dist.ReduceOp.MIN)
        return bool(t.item())
    return all_done


def _gather_rows(out: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Every rank's decoded rows, gathered on every rank."""
    parts: list = [None] * torch_dist.get_world_size()
    torch_dist.all_gather_object(parts, (rows, out[rows]))
    for r, top in parts:
        out[r] = top
    return out


def recommend(dec: Decoder, ex: Examples, progress: bool = False, desc: str = "decode", dist=None) -> Decoded:
    """Top `beam_size` items for every example, decoded in batches of similar input length; with `dist`
    (scaling.train.Dist) of several ranks, every rank decodes its share and returns every example's."""
    model = dec.model
    device = model_device(model)
    world, rank = (dist.world_size, dist.rank) if dist is not None else (1, 0)
    was_training = model.training
    model.eval()
    order = np.argsort(-dec.lengths(ex), kind="stable")   # similar lengths together: less padding
    batches = [order[s:s + dec.batch_size] for s in range(0, len(ex), dec.batch_size)]
    mine = batches[rank::world]
    rounds = -(-len(batches) // world)
    sync = lockstep(device) if world > 1 else None
    out = np.full((len(ex), dec.beam_size), -1, dtype=np.int64)
    _reset_peak(device)
    t0 = time.perf_counter()
    with torch.inference_mode():
        for j in tqdm(range(rounds), desc=desc, unit="batch", disable=not progress or rank != 0, leave=False):
            idx = mine[j] if j < len(mine) else None   # None: a dummy batch that keeps this rank in step
            inputs = dec.inputs(ex, batches[0] if idx is None else idx)
            inputs = {k: v.to(device, non_blocking=True) for k, v in inputs.items()}
            ids = dec.search(model, sync, **inputs).cpu().numpy()
            if idx is not None:
                out[idx] = dec.to_items(ids, dec.beam_size)
    if world > 1:
        out = _gather_rows(out, np.concatenate(mine) if mine else np.zeros(0, dtype=np.int64))
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    seconds = time.perf_counter() - t0
    model.train(was_training)
    return Decoded(out, seconds, _peak(device), str(device))


def evaluate(dec: Decoder, ex: Examples, progress: bool = False, desc: str = "decode", dist=None) -> dict:
    """Metrics of one decode, with its per-user outcomes (`per_user`: user index and the target's 0-based
    rank, beam_size = not recommended) and what it cost (`serving`). With `dist`: every rank decodes (above)."""
    d = recommend(dec, ex, progress, desc, dist)
    m: dict = ranking_metrics(d.top, ex.target)
    m["invalid_rate"] = float((d.top < 0).mean())
    m["per_user"] = {"user": ex.user.astype(np.int32), "rank": rank_of_target(d.top, ex.target).astype(np.int16)}
    m["serving"] = {"users": len(ex), "seconds": d.seconds, "users_per_s": len(ex) / max(d.seconds, 1e-9),
                    "peak_memory_bytes": d.peak_memory_bytes, "device": d.device, "batch_size": dec.batch_size,
                    "beam_size": dec.beam_size, "threads": torch.get_num_threads(),
                    "ranks": dist.world_size if dist is not None else 1,
                    "dtype": str(next(dec.model.parameters()).dtype).replace("torch.", "")}
    return m


def pad_items(ids: np.ndarray, k: int) -> np.ndarray:
    """(B, K') item ids -> (B, k): cut or padded with -1 (a beam search may return fewer than k)."""
    out = np.full((ids.shape[0], k), -1, dtype=np.int64)
    out[:, : min(k, ids.shape[1])] = ids[:, :k]
    return out
