"""SID-GR throughput on real Beauty data: training examples/s and tokens/s for the GRID-default
preset (length-bucketed, trimmed batches vs a naive baseline padding every batch to the full 20-item
history) and with train.autocast=bfloat16, beside this machine's fp32 matmul GFLOP/s; and decode users/s for constrained vs free beam
search. Prints figures; asserts nothing about time.

    python bench/bench_sidgr.py [--users 5000] [--steps 30] [--decode-users 512] [--preset grid]
"""
from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np
import torch

from scaling.cache import ArtifactCache
from scaling.config import EncoderConfig, ModelConfig, TokenizerConfig, TrainConfig
from scaling.data import item_text, leave_one_out, load_dataset
from scaling.encoders import embed_items
from scaling.params import recommender_params, train_flops_per_example
from scaling.sidgr.batching import SIDBatcher, batch_order
from scaling.decode import recommend
from scaling.sidgr.pipeline import sid_decoder
from scaling.sidgr.model import TokenLayout, build_model
from scaling.sidgr.trie import SIDTrie
from scaling.tokenizers import fit_sids
from scaling.precision import capability, cpu_name, matmul_ratio
from scaling.train import _autocast


def matmul_gflops(n=1024, reps=20) -> float:
    a, b = torch.randn(n, n), torch.randn(n, n)
    a @ b
    t = time.perf_counter()
    for _ in range(reps):
        a @ b
    return 2 * n ** 3 * reps / (time.perf_counter() - t) / 1e9


def train_throughput(model, batcher, ex, batches, steps, sid_len, autocast="none", device="cpu"):
    """examples/s, real (non-pad) history tokens/s, and model FLOP/s counting every slot computed
    (padding included), by the per-stack estimate of scaling.params. `autocast`: train.autocast's
    context, the one the training loop uses."""
    cfg = TrainConfig(autocast=autocast)
    opt = torch.optim.AdamW(model.parameters(), lr=5e-4)
    model.train()
    n_ex = n_tok = n_slots = flops = 0
    for i, idx in enumerate(batches[: steps + 2]):
        if i == 2:   # two warm-up steps
            t = time.perf_counter()
            n_ex = n_tok = n_slots = flops = 0
        b = {k: v.to(device, non_blocking=True) for k, v in batcher.train_batch(ex, idx).items()}
        with _autocast(model, cfg):
            loss = model(**b).loss
        opt.zero_grad()
        loss.backward()
        opt.step()
        n_ex += len(idx)
        n_tok += int(b["attention_mask"].sum())   # a device sync per step on a GPU: an upper bound on step time
        n_slots += b["input_ids"].numel()
        flops += len(idx) * train_flops_per_example(model, b["input_ids"].shape[1], sid_len)
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize()
    dt = time.perf_counter() - t
    return n_ex / dt, n_tok / dt, flops / dt


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--users", type=int, default=5000)
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--decode-users", type=int, default=512)
    ap.add_argument("--cache-dir", default=None)
    ap.add_argument("--preset", default="grid")
    ap.add_argument("--device", default="cpu", help="cpu | cuda (train.device's placement)")
    args = ap.parse_args()
    torch.manual_seed(0)
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}")
    gf = matmul_gflops()
    cap = capability(args.device)
    fp32_256, bf16_256 = matmul_ratio()
    print(f"fp32 matmul 1024^3: {gf:.1f} GFLOP/s; CPU {cpu_name()}; {cap.describe()}; "
          f"256^2 matmul bf16/fp32 {bf16_256 / fp32_256:.3f}x ({bf16_256:.1f} vs {fp32_256:.1f} GFLOP/s)")

    ds = load_dataset("beauty").subset(args.users, 0)
    sp = leave_one_out(ds)
    cache = ArtifactCache(args.cache_dir)
    emb, _, _ = embed_items([item_text(i) for i in ds.items], EncoderConfig(), cache, ds.name)
    sids, _ = fit_sids(emb, TokenizerConfig(), 0, cache)
    layout = TokenLayout(sids.widths, 0)
    tokens = layout.item_tokens(torch.from_numpy(sids.codes))
    model = build_model(ModelConfig(preset=args.preset), layout).to(args.device)
    n_ne = recommender_params(model)["n_rs_non_embedding"]
    print(f"{ds.summary()}; {len(sp.train):,} training examples; mean history "
          f"{sp.train.lengths.mean():.1f} items; {args.preset} preset {n_ne:,} non-embedding params; SID length {sids.length}")

    rng = np.random.default_rng(0)
    fast = SIDBatcher(tokens, layout, "encdec")
    naive = SIDBatcher(tokens, layout, "encdec", pad_to_full=True)
    rows = {}
    for name, batcher, bucket, ac in (("bucketed+trimmed", fast, True, "none"),
                                      ("naive (pad to 20 items)", naive, False, "none"),
                                      ("bucketed+trimmed, bf16 autocast", fast, True, "bfloat16")):
        batches = batch_order(sp.train.lengths, 256, np.random.default_rng(0), bucket)
        ex_s, tok_s, flop_s = train_throughput(model, batcher, sp.train, batches, args.steps, sids.length, ac, args.device)
        achieved = flop_s / 1e9
        rows[name] = ex_s
        print(f"train {name:32s}: {ex_s:8.1f} examples/s  {tok_s:9.0f} real tokens/s  "
              f"~{achieved:5.1f} GFLOP/s model compute ({achieved / gf:.0%} of matmul peak)")
    print(f"bf16 autocast over fp32 (train.autocast=bfloat16): "
          f"{rows['bucketed+trimmed, bf16 autocast'] / rows['bucketed+trimmed']:.2f}x "
          f"(bf16 {'native' if cap.native else 'emulated'} here: train.autocast=auto picks "
          f"{'bf16' if cap.native else 'fp32'})")
    print(f"speed-up over naive: {rows['bucketed+trimmed'] / rows['naive (pad to 20 items)']:.2f}x "
          f"(ceiling from encoder tokens alone: {20 * sids.length / (sp.train.lengths.mean() * sids.length):.2f}x)")

    trie = SIDTrie(sids.codes, sids.widths)
    idx = rng.permutation(len(sp.valid))[: args.decode_users]
    from scaling.data.split import Examples
    ex = Examples(sp.valid.history[idx], sp.valid.target[idx], sp.valid.user[idx])
    times, invalid = {}, {}
    for constrained in (False, True, False, True):
        t = time.perf_counter()
        top = recommend(sid_decoder(model, fast, trie, 20, constrained, 256), ex).top
        times.setdefault(constrained, []).append(time.perf_counter() - t)
        invalid[constrained] = float((top < 0).mean())
    for c in (False, True):
        dt = min(times[c])
        print(f"decode beam 20 {'constrained' if c else 'free':11s}: {len(ex) / dt:7.1f} users/s "
              f"(invalid rate {invalid[c]:.3f})")
    print(f"constrained / free cost: {min(times[True]) / min(times[False]):.3f}x")


if __name__ == "__main__":
    main()
