"""One short GPU job that checks the device path and measures it: full-Beauty SID-GR (small and grid presets,
packed on one GPU), an LLM-as-RS LoRA training + title-constrained decode on a randomly initialised model of
SmolLM2-135M's shape (weights cannot travel; this checks the path and its speed, not quality), and a 2-rank DDP
run when the machine has 2 GPUs. Prints one table and writes it as JSON, with the run records, under --out.

Runs from a source tree (PYTHONPATH=.) on a machine with torch, transformers, peft, scipy, scikit-learn,
pandas, filelock, pyyaml and tqdm — no submitit, no gguf, no encoder or LLM packages: data and item
embeddings come from the folder bench/prepare_device_data.py fills (git-ignored, carried with the tree).

    bash bench/device_check.sh                     # on the GPU machine (OUT=... for where results go)
    python bench/device_check.py --quick           # the same path on a CPU, tiny sizes (what the test runs)
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

# (name, overrides) of every run; the prepare script fills the cache for exactly these.
SID_FULL = ["data.dataset=beauty", "eval.valid_users=2000", "train.eval_every=1000", "train.patience=100",
            "train.autocast=auto", "eval.batch_size=1024", "train.warmup_steps=100"]
SID_QUICK = ["data.dataset=beauty", "data.max_items=1000", "data.min_sequence=5", "data.max_users=1000",
             "tokenizer.width=64", "eval.valid_users=32", "eval.test_users=64", "train.eval_every=20",
             "train.warmup_steps=5", "train.batch_size=64"]
LLM_BASE = ["paradigm=llmrs", "llm.name=smollm2", "llm.init=random", "llm.finetune=lora", "llm.dtype=auto",
            "data.max_items=1000", "data.min_sequence=5", "data.sliding_window=false", "llm.max_prompt_tokens=128",
            "llm.max_title_tokens=16", "train.batch_size=8", "train.warmup_steps=10", "train.lr=3e-4",
            "eval.beam_size=10"]


def sid_runs(quick: bool, small_steps: int, grid_steps: int) -> list[tuple[str, list[str]]]:
    if quick:
        return [("sidgr small", [*SID_QUICK, "model.preset=small", "train.max_steps=20"]),
                ("sidgr grid", [*SID_QUICK, "model.preset=grid", "train.max_steps=20"])]
    return [("sidgr small", [*SID_FULL, "model.preset=small", f"train.max_steps={small_steps}"]),
            ("sidgr grid", [*SID_FULL, "model.preset=grid", f"train.max_steps={grid_steps}"])]


def llm_run(quick: bool) -> tuple[str, list[str]]:
    size = (["data.max_users=300", "train.max_steps=2", "train.eval_every=2", "eval.valid_users=4", "eval.test_users=8",
             "eval.batch_size=8", "train.batch_size=4", "llm.max_prompt_tokens=64"] if quick else
            ["data.max_users=2000", "train.max_steps=150", "train.eval_every=150", "eval.valid_users=500",
             "eval.test_users=500", "eval.batch_size=64"])
    return ("llmrs smollm2-shape LoRA (random init)", [*LLM_BASE, *size])


def _record(run_dir: Path) -> dict:
    def load(name):
        f = run_dir / f"{name}.json"
        return json.loads(f.read_text()) if f.is_file() else {}
    m, t, s = load("metrics"), load("timing"), load("serving")
    return {"run": run_dir.name, "device": t.get("device"), "train_examples_per_s": t.get("train_examples_per_s"),
            "train_tokens_per_s": t.get("train_tokens_per_s"), "train_s": t.get("train_s"), "steps": m.get("steps"),
            "test_recall@10": m.get("test/recall@10"), "test_ndcg@10": m.get("test/ndcg@10"),
            "test_popular_recall@10": m.get("test/popular/recall@10"), "test_users": s.get("users"),
            "decode_users_per_s": s.get("users_per_s"), "peak_decode_memory_gb": (s.get("peak_memory_bytes") or 0) / 1e9}


def _ddp(quick: bool, runs: Path, cache: Path, data: Path) -> dict:
    import torch

    if torch.cuda.device_count() < 2:
        return {"run": "ddp 2 ranks", "skipped": f"{torch.cuda.device_count()} GPU(s) here; needs 2"}
    over = [*(SID_QUICK if quick else SID_FULL[:-2]), "model.preset=small", "train.backend=ddp",
            "train.max_steps=300", "train.eval_every=300", "eval.test_users=2000"]
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2", "-m", "scaling.app", "run", "--quiet",
           "--runs-dir", str(runs), "--cache-dir", str(cache), "--data-dir", str(data), *over]
    r = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)})
    if r.returncode != 0:
        return {"run": "ddp 2 ranks", "failed": r.stderr.strip().splitlines()[-1:] or ["?"]}
    rec = _record(Path(r.stdout.strip().splitlines()[-1]))
    m = json.loads((Path(r.stdout.strip().splitlines()[-1]) / "metrics.json").read_text())
    return {**rec, "run": "ddp 2 ranks (small)", "ranks_in_sync": len(set(m["rank_weight_sha256"])) == 1}


def matmul_tflops(device: str) -> float | None:
    import torch

    if not device.startswith("cuda"):
        return None
    a = torch.randn(8192, 8192, device=device, dtype=torch.bfloat16)
    b = torch.randn(8192, 8192, device=device, dtype=torch.bfloat16)
    a @ b
    torch.cuda.synchronize()
    t = time.perf_counter()
    for _ in range(20):
        a @ b
    torch.cuda.synchronize()
    return 2 * 8192 ** 3 * 20 / (time.perf_counter() - t) / 1e12


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=str(REPO / ".device-data"), help="what bench/prepare_device_data.py wrote")
    ap.add_argument("--out", default=os.environ.get("OUT") or "/tmp/device-check")
    ap.add_argument("--quick", action="store_true", help="tiny sizes: the same path on a CPU in a minute or two")
    ap.add_argument("--small-steps", type=int, default=8000)
    ap.add_argument("--grid-steps", type=int, default=4000)
    ap.add_argument("--at-once", type=int, default=2, help="SID-GR runs packed on the GPU at once")
    args = ap.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch

    from scaling.config import load
    from scaling.run import run
    from scaling.train import resolve_device
    from sweeps.packing import run_packed

    data, out = Path(args.data), Path(args.out)
    cache, datasets, runs = data / "cache", data / "datasets", out / "runs"
    if not (cache / "models" / "versions.json").is_file():
        print(f"{data}: not prepared; run `python bench/prepare_device_data.py{' --quick' if args.quick else ''}` on a "
              "machine with the encoder packages first", file=sys.stderr)
        return 2
    device = resolve_device("auto")
    info = {"device": torch.cuda.get_device_name(0) if device.startswith("cuda") else "cpu",
            "cuda_devices": torch.cuda.device_count(), "torch": torch.__version__,
            "bf16_matmul_tflops": matmul_tflops(device)}
    print(json.dumps(info))
    rows, t0 = [], time.time()

    sid = sid_runs(args.quick, args.small_steps, args.grid_steps)
    cfgs = [load(overrides=o).to_dict() for _, o in sid]
    t = time.time()
    paths, failures = run_packed(cfgs, str(runs), str(cache), str(datasets), args.at_once)
    packed_s = time.time() - t
    for f in failures:
        print(f"sid-gr run failed: {f}", file=sys.stderr)
    for (name, _), p in zip(sid, paths):
        rows.append({**_record(Path(p)), "name": f"{name} (packed {args.at_once} at once)"})

    name, over = llm_run(args.quick)
    try:
        rows.append({**_record(run(load(overrides=over), runs, cache, datasets, progress=False)), "name": name})
    except Exception as e:   # noqa: BLE001 - reported in the table; the check goes on
        rows.append({"name": name, "failed": f"{type(e).__name__}: {e}"})
    rows.append({"name": "ddp", **_ddp(args.quick, runs, cache, datasets)})

    cols = ("train_examples_per_s", "train_tokens_per_s", "test_recall@10", "test_ndcg@10", "test_popular_recall@10",
            "decode_users_per_s", "peak_decode_memory_gb", "train_s", "steps")
    print(f"\ndevice check on {info['device']} ({info['cuda_devices']} CUDA devices; bf16 matmul "
          f"{info['bf16_matmul_tflops'] or 0:.0f} TFLOP/s); SID-GR pair packed: {packed_s:.0f} s wall; total "
          f"{time.time() - t0:.0f} s")
    print("| run | " + " | ".join(cols) + " |")
    print("|---|" + "---|" * len(cols))
    for r in rows:
        if "failed" in r or "skipped" in r:
            print(f"| {r['name']} | {r.get('failed') or r.get('skipped')} |")
            continue
        print(f"| {r['name']} | " + " | ".join(f"{r.get(c):.4g}" if isinstance(r.get(c), float) else str(r.get(c))
                                               for c in cols) + " |")
    out.mkdir(parents=True, exist_ok=True)
    (out / "device_check.json").write_text(json.dumps({"info": info, "rows": rows, "packed_s": packed_s}, indent=1))
    for d in runs.glob("*-*"):   # the records without checkpoints, to commit under notebooks/results/
        dest = out / "records" / d.name
        shutil.copytree(d, dest, ignore=shutil.ignore_patterns("ckpt"), dirs_exist_ok=True)
    return 1 if any("failed" in r for r in rows) or failures else 0


if __name__ == "__main__":
    sys.exit(main())
