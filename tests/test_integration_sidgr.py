"""Real-data integration: Amazon Beauty subset, the offline MiniLM encoder, RK-Means SIDs, a real
T5 recommender trained for a few minutes, constrained beam search; the run record; kill and resume."""
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from conftest import SHARED_DATA
from scaling import config
from scaling.record import read_status
from scaling.run import run, run_dir_for

pytestmark = pytest.mark.integration

# 5,000 users (10,565 items), tested on 2,000 of them. Measured on this machine (constant lr after warmup, so a
# shorter run is the longer one's start): test Recall@10 0.0300 at 1,000 steps and 0.0195 at 500, vs most-popular
# 0.0125; training is ~75% of the fixture's time, so it trains 750 steps (the margin at 500 was too thin to pin).
REAL = ["data.max_users=5000", "model.preset=small", "train.max_steps=750", "train.eval_every=250",
        "eval.valid_users=500", "eval.test_users=2000"]


@pytest.fixture(scope="module")
def real_run(tmp_path_factory, shared_cache):
    runs = tmp_path_factory.mktemp("runs")
    cfg = config.load(overrides=REAL)
    t = time.time()
    out = run(cfg, runs, shared_cache, SHARED_DATA, progress=False)
    return cfg, runs, out, time.time() - t


def test_beats_most_popular_on_real_beauty(real_run):
    cfg, runs, out, seconds = real_run
    m = json.loads((out / "metrics.json").read_text())
    print(f"\nBeauty 5000 users, {seconds:.0f} s: test Recall@10 {m['test/recall@10']:.4f} NDCG@10 "
          f"{m['test/ndcg@10']:.4f} vs most-popular {m['test/popular/recall@10']:.4f} / "
          f"{m['test/popular/ndcg@10']:.4f}; curve {[round(c['ndcg@10'], 4) for c in m['curve']]}")
    assert m["test/recall@10"] > m["test/popular/recall@10"]
    assert m["test/ndcg@10"] > m["test/popular/ndcg@10"]
    assert m["test/invalid_rate"] == 0.0                 # constrained decoding returns real items only
    assert m["curve"][-1]["ndcg@10"] > m["curve"][0]["ndcg@10"]


def test_run_record_is_complete(real_run):
    cfg, runs, out, _ = real_run
    assert out == run_dir_for(cfg, runs) and read_status(out) == "done"
    for f in ("config.json", "params.json", "metrics.json", "timing.json", "env.json", "data.json"):
        assert json.loads((out / f).read_text())
    p = json.loads((out / "params.json").read_text())
    assert p["n_llm"] == 22_713_216                         # all-MiniLM-L6-v2
    assert p["n_qt"] == 3 * 256 * 384 and p["sid_length"] == 4
    assert p["n_rs_non_embedding"] > 800_000 and p["train_flops_per_example"] > 0
    d = json.loads((out / "data.json").read_text())
    assert d["users"] == 5000 and d["items_missing_field"]["description"] == d["items"]
    assert 0 <= d["sid_quality"]["collision_rate"] < 1
    assert json.loads((out / "timing.json").read_text())["train_examples_per_s"] > 0
    assert json.loads((out / "config.json").read_text()) == cfg.to_dict()
    assert not list(out.rglob(".*tmp*"))                    # no temp files left behind


def test_per_user_outcomes_recompute_the_metrics(real_run):
    """outcomes.npz: every evaluation user's target rank; any Recall@k/NDCG@k (k <= beam) recomputes from it."""
    from analysis.outcomes import per_user, read_outcomes

    cfg, runs, out, _ = real_run
    m = json.loads((out / "metrics.json").read_text())
    o = read_outcomes(out)
    for s in ("valid", "test"):
        assert len(o[s]["user"]) == len(o[s]["rank"]) == len(o[s]["popular_rank"]) > 0
        assert len(set(o[s]["user"].tolist())) == len(o[s]["user"])
        for metric in ("recall@5", "recall@10", "ndcg@5", "ndcg@10"):
            assert per_user(o[s]["rank"], metric).mean() == pytest.approx(m[f"{s}/{metric}"], abs=1e-12)
            assert per_user(o[s]["popular_rank"], metric).mean() == pytest.approx(m[f"{s}/popular/{metric}"], abs=1e-12)
        assert o[s]["rank"].max() <= cfg.eval.beam_size


def test_serving_cost_is_recorded(real_run):
    cfg, runs, out, _ = real_run
    s = json.loads((out / "serving.json").read_text())
    t = json.loads((out / "timing.json").read_text())
    assert s["device"] == "cpu" and t["device"] == "cpu" and s["users"] == 2000 and s["users_per_s"] > 0
    assert s["decode_flops_per_user"] > 0 and s["peak_memory_bytes"] > 0 and s["beam_size"] == cfg.eval.beam_size
    assert t["train_eval_s"] >= t["train_device_seconds"] > 0   # steps and validations of every process together


def test_finished_run_is_not_redone(real_run, shared_cache):
    cfg, runs, out, seconds = real_run
    before = (out / "metrics.json").stat().st_mtime_ns
    t = time.time()
    assert run(config.load(overrides=list(reversed(REAL))), runs, shared_cache, SHARED_DATA, progress=False) == out
    assert time.time() - t < 5 and (out / "metrics.json").stat().st_mtime_ns == before


def test_killed_run_resumes_from_checkpoint(tmp_path, shared_cache):
    args = ["data.max_users=400", "tokenizer.width=16", "model.preset=tiny", "train.batch_size=32",
            "train.max_steps=400", "train.eval_every=40", "train.patience=100", "eval.valid_users=100"]
    cmd = [sys.executable, "-m", "scaling.app", "run", "--quiet", "--runs-dir", str(tmp_path),
           "--cache-dir", str(shared_cache), "--data-dir", str(SHARED_DATA), *args]
    out = run_dir_for(config.load(overrides=args), tmp_path)
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 300
    while not (out / "ckpt" / "last.pt").exists():
        assert proc.poll() is None and time.time() < deadline, "run ended before its first checkpoint"
        time.sleep(0.2)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert read_status(out) == "running"                    # a killed run never looks finished
    assert not (out / "metrics.json").exists()
    before = torch.load(out / "ckpt" / "last.pt", weights_only=False)["state"]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=600)
    m = json.loads((out / "metrics.json").read_text())
    assert read_status(out) == "done" and m["steps"] == 400
    # the record's train_eval_s counts the killed process's checkpointed steps and validations too
    assert json.loads((out / "timing.json").read_text())["train_eval_s"] > before["train_seconds"] + before["eval_seconds"]
    assert len(m["resumed_from"]) == 1 and 40 <= m["resumed_from"][0] < 400


def test_cli_errors_are_one_line(tmp_path):
    for argv, msg in ((["run", "model.presett=grid"], "unknown config key 'model.presett'; did you mean 'model.preset'"),
                      (["run", "--data-dir", str(tmp_path), "data.dataset=toys"], "dataset 'toys' not found"),
                      (["run", "tokenizer.kind=pq"], "choose one of rkmeans, rvq, rqvae")):
        r = subprocess.run([sys.executable, "-m", "scaling.app", *argv, "--runs-dir", str(tmp_path / "r")],
                           capture_output=True, text=True)
        assert r.returncode == 2
        assert r.stderr.strip().splitlines() == [f"gr-scaling: error: {r.stderr.split('error: ', 1)[1].strip()}"]
        assert msg in r.stderr


def test_step_limited_record_of_an_unfinished_run_is_the_limited_run(tmp_path, shared_cache):
    """gr-scaling step-limited: an unlimited run's checkpoint at step N gives the record a run limited to N
    steps makes (same best checkpoint, same test users, same metrics), with resumed_from saying where it began."""
    from scaling.app.step_limited import step_limited

    args = ["data.max_users=300", "tokenizer.width=16", "model.preset=tiny", "train.batch_size=32",
            "train.eval_every=20", "train.patience=100", "eval.valid_users=50", "eval.test_users=100"]
    limited = run(config.load(overrides=[*args, "train.max_steps=60"]), tmp_path / "a", shared_cache, SHARED_DATA,
                  progress=False)
    unlimited = run_dir_for(config.load(overrides=args), tmp_path / "b")     # as if killed at step 60
    shutil.copytree(limited / "ckpt", unlimited / "ckpt")
    (unlimited / "config.json").write_text((limited / "config.json").read_text().replace('"max_steps": 60',
                                                                                         '"max_steps": 0'))
    out = step_limited(unlimited, tmp_path / "c", str(SHARED_DATA), str(shared_cache))
    assert out.name == limited.name and (unlimited / "ckpt" / "last.pt").is_file()
    a, b = (json.loads((d / "metrics.json").read_text()) for d in (limited, out))
    assert b["resumed_from"] == [60] and a["best_step"] == b["best_step"]
    assert {k: v for k, v in a.items() if k.startswith("test/")} == {k: v for k, v in b.items() if k.startswith("test/")}
