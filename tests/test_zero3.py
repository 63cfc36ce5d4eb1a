"""DeepSpeed ZeRO-3 keeps its best weights without whole-model gathers (issue #24): 2 real ranks (torchrun,
gloo); every parameter gather is instrumented (tests/zero3_worker.py). No rank ever holds more than one
module's own parameters gathered, and the kept weights equal a single-process run's."""
import json
import os
import subprocess
import sys
from dataclasses import replace

import pytest
import torch

from conftest import REPO
from test_global_batch import CFG, _data, _fit
from scaling.config import ModelConfig
from scaling.sidgr.model import build_model
from scaling.train import Dist

pytestmark = pytest.mark.integration


def test_zero3_best_weights_are_consolidated_a_module_at_a_time(tmp_path):
    pytest.importorskip("deepspeed")
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": f"{REPO}:{REPO / 'tests'}"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
           str(REPO / "tests" / "zero3_worker.py"), str(tmp_path)]
    r = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    layout = _data()[0]
    model = build_model(ModelConfig(preset="tiny", dropout=0.0, loss="vocab"), layout)
    whole = sum(p.numel() for p in model.parameters())
    one_module = max(sum(p.numel() for p in m.parameters(recurse=False)) for m in model.modules())
    for rank in (0, 1):
        got = json.loads((tmp_path / f"rank{rank}.json").read_text())
        assert got["step"] == CFG.max_steps and got["examples"] == 242
        assert 0 < got["peak_gathered"] <= one_module < whole, (got, one_module, whole)
    alone = _fit(replace(CFG, eval_every=3), tmp_path / "alone", Dist())
    kept = torch.load(tmp_path / "ckpt" / "best.pt", weights_only=True)
    single = torch.load(tmp_path / "alone" / "best.pt", weights_only=True)
    assert set(kept) == set(single)
    for k in single:   # same tolerance as the global-batch tests (test_global_batch._same)
        torch.testing.assert_close(kept[k], single[k], atol=3e-4, rtol=0, msg=k)
