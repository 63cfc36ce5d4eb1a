"""Every rank decodes: real 2-rank jobs (torchrun, gloo on this CPU) with DeepSpeed ZeRO-3 — whose partitioned
weights could not validate while rank 0 decoded alone — and torch DDP. Each rank decodes a share of the
evaluation users in lockstep (SID beam search: a fixed number of forwards per batch; title beam search: synced
steps with dummy forwards), the shares are gathered, and the record must equal what one process decodes with
the kept weights (best.pt, saved whole from the partitioned ones)."""
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from analysis.outcomes import read_outcomes
from conftest import REPO, SHARED_DATA
from scaling import config
from scaling.cache import ArtifactCache
from scaling.evaluation import eval_sets
from scaling.metrics import rank_of_target
from scaling.run import run_dir_for
from scaling.train import load_trainable_state

pytestmark = pytest.mark.integration

ZERO3 = ["train.backend=deepspeed", "train.deepspeed_config=slurm/deepspeed/zero3.json"]
# 7 decode batches of 16 over 2 ranks: one rank decodes a dummy batch to stay in step
SID = ["data.max_items=1000", "data.min_sequence=5", "data.max_users=600", "tokenizer.width=64",
       "model.preset=small", "train.max_steps=20", "train.eval_every=10", "train.warmup_steps=2", "train.batch_size=64",
       "eval.valid_users=100", "eval.test_users=100", "eval.batch_size=16"]
# a randomly initialised model of SmolLM2-135M's shape: titles end at different steps in different batches
LLM = ["paradigm=llmrs", "llm.name=smollm2", "llm.init=random", "llm.finetune=lora", "data.max_items=1000",
       "data.min_sequence=5", "data.max_users=300", "data.sliding_window=false", "llm.max_prompt_tokens=64",
       "llm.max_title_tokens=8", "train.batch_size=4", "train.max_steps=4", "train.eval_every=2",
       "train.warmup_steps=1", "eval.beam_size=5", "eval.valid_users=12", "eval.test_users=12", "eval.batch_size=5"]


def _torchrun(overrides: list[str], runs: Path, cache: Path) -> Path:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO)}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
           "-m", "scaling.app", "run", "--runs-dir", str(runs), "--cache-dir", str(cache), "--data-dir",
           str(SHARED_DATA), "--quiet", *overrides]
    r = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stderr[-3000:]
    return run_dir_for(config.load(overrides=overrides), runs)


def _decode_alone(overrides: list[str], out: Path, cache: Path) -> dict:
    """What one process decodes for the record's test users with the record's kept weights."""
    cfg = config.load(overrides=overrides)
    from scaling.paradigms import get

    b = get(cfg.paradigm).build(cfg, ArtifactCache(cache), str(SHARED_DATA), log=lambda *_: None, device="cpu", progress=False)
    load_trainable_state(b.model, torch.load(out / "ckpt" / "best.pt", weights_only=True))
    from scaling.decode import recommend

    ex = eval_sets(b.split, cfg.eval.test_users)["test"]
    return {"user": ex.user, "rank": rank_of_target(recommend(b.decoder, ex).top, ex.target)}


@pytest.mark.parametrize("name,overrides", [("sidgr zero3", SID + ZERO3), ("sidgr ddp", SID + ["train.backend=ddp"]),
                                            ("llmrs zero3", LLM + ZERO3)])
def test_every_rank_decodes_and_matches_one_process(name, overrides, tmp_path, shared_cache):
    out = _torchrun(overrides, tmp_path / "runs", shared_cache)
    assert (out / "status").read_text().startswith("done")
    m = json.loads((out / "metrics.json").read_text())
    assert m["world_size"] == 2 and len(m["curve"]) >= 2
    assert json.loads((out / "serving.json").read_text())["ranks"] == 2
    test = read_outcomes(out)["test"]
    alone = _decode_alone(overrides, out, shared_cache)
    np.testing.assert_array_equal(test["user"], alone["user"])
    np.testing.assert_array_equal(test["rank"], alone["rank"])
    p = json.loads((out / "params.json").read_text())
    assert min(v for v in p.values() if isinstance(v, (int, float)) and not isinstance(v, bool)) >= 0
    key = "n_trainable" if "llmrs" in name else "n_rs_non_embedding"
    assert p[key] > 0   # counted from whole weights, not ZeRO-3's empty partitions
