"""`gr-scaling quickstart`: a small real SID-GR study on this machine.

So far: a recommender-size ladder on a Beauty subset with the offline MiniLM encoder and RK-Means,
run one after another in this process, ending in a table. The sweep launcher and analysis (fits,
report, LLM-as-RS) plug in here as they land.
"""
from __future__ import annotations

import time

from tqdm.auto import tqdm

from scaling import config
from scaling.record import read_json
from scaling.run import run

LADDER = ["tiny", "small", "grid", "medium"]


def quickstart(runs_dir: str, cache_dir: str | None, data_dir: str | None, reduced: bool = False) -> None:
    presets = LADDER[:2] if reduced else LADDER
    base = ["data.max_users=3000", "tokenizer.width=64", "train.eval_every=100", "train.patience=3",
            "eval.valid_users=500", f"train.max_steps={150 if reduced else 1500}"]
    t0 = time.time()
    rows = []
    for preset in tqdm(presets, desc="quickstart: SID-GR recommender ladder", unit="run"):
        cfg = config.load(overrides=base + [f"model.preset={preset}"])
        out = run(cfg, runs_dir, cache_dir, data_dir, progress=True, log=tqdm.write)
        m, p = read_json(out / "metrics.json"), read_json(out / "params.json")
        rows.append((preset, p["n_rs_non_embedding"], m["test/recall@10"], m["test/ndcg@10"],
                     m["test/popular/recall@10"], out))
    print(f"\n{'preset':8} {'N_RS (non-emb)':>15} {'Recall@10':>10} {'NDCG@10':>9} {'popular R@10':>13}  run")
    for preset, n, r, nd, pop, out in rows:
        print(f"{preset:8} {n:>15,} {r:>10.4f} {nd:>9.4f} {pop:>13.4f}  {out}")
    print(f"quickstart finished in {time.time() - t0:.0f} s; runs in {runs_dir}")
