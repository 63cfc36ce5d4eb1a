"""LLM-as-RS throughput for the smallest offline LLM (SmolLM2-135M) on real Beauty prompts, in one run:
training tokens/s with LoRA and with full fine-tuning, and decode users/s for title-constrained vs free
beam search, beside this machine's fp32 and bf16 matmul GFLOP/s and the model FLOP/s they imply.
Prints figures; asserts nothing about time.

    python bench/bench_llmrs.py [--llm smollm2] [--dtype auto|float32|bfloat16] [--steps 8] [--decode-users 32]
"""
from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np
import torch

from scaling.cache import ArtifactCache
from scaling.config import from_dict
from scaling.precision import capability, cpu_name
from scaling.data import leave_one_out, load_dataset
from scaling.decode import recommend
from scaling.llmrs.model import llm_flops_per_example
from scaling.llmrs.pipeline import llm_decoder, prepare
from scaling.sidgr.batching import batch_order


def matmul_gflops(dtype, n=1024, seconds=0.5) -> float:
    """Timed for `seconds`, not a fixed count: an emulated bf16 1024^3 matmul takes ~2 s on an AVX2-only CPU."""
    a, b = torch.randn(n, n, dtype=dtype), torch.randn(n, n, dtype=dtype)
    a @ b
    reps, t = 0, time.perf_counter()
    while reps == 0 or time.perf_counter() - t < seconds:
        a @ b
        reps += 1
    return 2 * n ** 3 * reps / (time.perf_counter() - t) / 1e9


def train_throughput(p, finetune: str, batch_size: int, steps: int):
    model = p.llm.model
    opt = torch.optim.AdamW([q for q in model.parameters() if q.requires_grad], lr=1e-4)
    model.train()
    ex = p.split.train
    batches = batch_order(p.batcher.prompt_lengths(ex), batch_size, np.random.default_rng(0), True)
    n_tok = n_ex = flops = 0
    for i, idx in enumerate(batches[: steps + 1]):
        if i == 1:    # one warm-up step
            t, n_tok, n_ex, flops = time.perf_counter(), 0, 0, 0.0
        b = p.batcher.train_batch(ex, idx)
        loss = model(**b).loss
        opt.zero_grad()
        loss.backward()
        opt.step()
        tok = int(b["attention_mask"].sum())
        n_tok, n_ex = n_tok + tok, n_ex + len(idx)
        flops += len(idx) * llm_flops_per_example(p.llm, finetune, tok / len(idx), b["labels"].shape[1] - 1)
    dt = time.perf_counter() - t
    return n_ex / dt, n_tok / dt, flops / dt / 1e9


def decode_throughput(p, users: int, beam: int, constrained: bool, batch_size: int):
    ex = p.split.test.sample(users)
    d = recommend(llm_decoder(p, beam, constrained, batch_size), ex)
    return len(ex) / d.seconds, float((d.top < 0).mean())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--llm", default="smollm2")
    ap.add_argument("--dtype", default="auto", help="float32 | bfloat16 | auto (bf16 where native); a bf16 run is "
                    "timed beside fp32")
    ap.add_argument("--users", type=int, default=2000)
    ap.add_argument("--steps", type=int, default=8)
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--decode-users", type=int, default=32)
    ap.add_argument("--beam", type=int, default=10)
    ap.add_argument("--max-prompt-tokens", type=int, default=256)
    a = ap.parse_args()
    print(f"torch threads: {torch.get_num_threads()}")
    fp32, bf16 = matmul_gflops(torch.float32), matmul_gflops(torch.bfloat16)
    print(f"matmul 1024^3: fp32 {fp32:.1f} GFLOP/s, bf16 {bf16:.1f} GFLOP/s ({bf16 / fp32:.3f}x); CPU {cpu_name()}; "
          f"{capability('cpu').describe()}")
    ds = load_dataset("beauty").subset(a.users, 0)
    split = leave_one_out(ds, 20, False)
    cache = ArtifactCache()
    for finetune in ("lora", "full"):
        cfg = from_dict({"paradigm": "llmrs", "train": {"autocast": "none"},
                         "llm": {"name": a.llm, "finetune": finetune, "dtype": a.dtype, "max_prompt_tokens": a.max_prompt_tokens}})
        # a bf16 figure is always measured beside fp32, in this run (machines differ: see scaling.precision)
        dtypes = ["float32", "bfloat16"] if cfg.llm.dtype == "bfloat16" else [cfg.llm.dtype]
        seen = {}
        for dtype in dtypes:
            c = from_dict({**cfg.to_dict(), "llm": {**cfg.to_dict()["llm"], "dtype": dtype}})
            p = prepare(c, cache, ds, split, log=lambda *_: None)
            ex_s, tok_s, gflops = train_throughput(p, finetune, a.batch_size, a.steps)
            seen[("train", dtype)] = ex_s
            print(f"train {a.llm} {finetune:4s} ({p.llm.n_trainable:,} trainable, {dtype}, batch {a.batch_size}): "
                  f"{ex_s:.2f} examples/s, {tok_s:.0f} tokens/s, {gflops:.1f} model GFLOP/s "
                  f"({gflops / (fp32 if dtype == 'float32' else bf16):.0%} of this machine's {dtype} matmul rate)")
            if finetune == "lora":
                for constrained in (True, False):
                    u_s, invalid = decode_throughput(p, a.decode_users, a.beam, constrained, 16)
                    seen[("decode", dtype, constrained)] = u_s
                    print(f"decode beam {a.beam} {'constrained' if constrained else 'free':11s} ({dtype}): "
                          f"{u_s:.2f} users/s (invalid rate {invalid:.3f})")
            del p
        if len(dtypes) == 2:
            print(f"bf16 / fp32 ({finetune}): train {seen[('train', 'bfloat16')] / seen[('train', 'float32')]:.2f}x"
                  + (f", constrained decode {seen[('decode', 'bfloat16', True)] / seen[('decode', 'float32', True)]:.2f}x"
                     if finetune == "lora" else "") + f" ({capability('cpu').describe()})")


if __name__ == "__main__":
    main()
