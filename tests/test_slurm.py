"""The sweep launcher on a real single-node SLURM (../shared/slurm-local): job arrays, results table,
cancel + requeue + resubmit with every run finished exactly once, a 2-rank DDP job, a bad profile."""
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import REPO, SHARED_DATA
import sweeps
from scaling.errors import ConfigError

pytestmark = pytest.mark.integration
SLURM_LOCAL = REPO.parent / "shared" / "slurm-local"
TINY = {"data.max_users": 300, "tokenizer.width": 16, "model.preset": "tiny", "train.batch_size": 32,
        "train.eval_every": 20, "train.patience": 100, "eval.valid_users": 100}


@pytest.fixture(scope="module")
def slurm():
    r = subprocess.run(["bash", str(SLURM_LOCAL / "start.sh")], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr
    yield
    subprocess.run(["scancel", "--user", "root"], check=False)


def grid_file(tmp_path: Path, name: str, product: dict, base: dict | None = None) -> str:
    import yaml

    p = tmp_path / f"{name}.yaml"
    p.write_text(yaml.safe_dump({"name": name, "base": {**TINY, **(base or {})}, "product": product}))
    return str(p)


def profile(tmp_path: Path, **kw) -> str:
    import yaml

    p = tmp_path / f"profile-{len(list(tmp_path.glob('profile-*')))}.yaml"
    p.write_text(yaml.safe_dump({"partition": "debug", "time_min": 20, "cpus_per_task": 1, **kw}))
    return str(p)


def paths(tmp_path, shared_cache):
    return sweeps.Paths(str(tmp_path / "runs"), str(shared_cache), str(SHARED_DATA))


def done_events(run_dir: Path) -> int:
    return sum(1 for line in (run_dir / "events.log").read_text().splitlines() if line.split()[1] == "done")


def test_job_array_and_results_table(slurm, tmp_path, shared_cache):
    g = grid_file(tmp_path, "arr", {"seed": [0, 1, 2]}, {"train.max_steps": 40})
    p = paths(tmp_path, shared_cache)
    counts = sweeps.submit(g, p, "slurm", profile(tmp_path, array_parallelism=3))
    assert counts["to_submit"] == 3
    rec = json.loads((Path(p.runs_dir) / ".sweeps" / "arr.json").read_text())
    assert len({j.split("_")[0] for j in rec["jobs"].values()}) == 1          # one job array
    rows = sweeps.wait(g, p, timeout_s=900)
    assert [r["state"] for r in rows] == ["done"] * 3, rows
    from scaling.app.sweep import collect
    table = collect(g, p)
    import pandas as pd
    df = pd.read_csv(table)
    assert len(df) == 3 and sorted(df["seed"]) == [0, 1, 2] and df["test/recall@10"].notna().all()
    assert Path(table).with_suffix(".parquet").is_file()
    assert sweeps.submit(g, p, "slurm", profile(tmp_path))["to_submit"] == 0   # finished sweep: nothing


def test_cancel_requeue_resubmit_each_run_once(slurm, tmp_path, shared_cache):
    g = grid_file(tmp_path, "crr", {"seed": [0, 1, 2]}, {"train.max_steps": 300})
    p = paths(tmp_path, shared_cache)
    sweeps.submit(g, p, "slurm", profile(tmp_path, array_parallelism=3))
    runs = Path(p.runs_dir)
    deadline = time.time() + 600
    while True:   # wait until two runs have written a checkpoint
        ck = sorted(runs.glob("sidgr-*/ckpt/last.pt"))
        if len(ck) >= 2:
            break
        assert time.time() < deadline
        time.sleep(0.5)
    rows = {r["run_id"]: r for r in sweeps.status(g, p)}
    cancelled, requeued = ck[0].parent.parent.name, ck[1].parent.parent.name
    subprocess.run(["scancel", rows[cancelled]["job_id"]], check=True)
    subprocess.run(["scontrol", "requeue", rows[requeued]["job_id"]], check=True)
    rows = sweeps.wait(g, p, timeout_s=900)
    state = {r["run_id"]: r["state"] for r in rows}
    assert state[cancelled] == "failed" and state[requeued] == "done", rows
    assert sweeps.submit(g, p, "slurm", profile(tmp_path))["to_submit"] == 1   # only the cancelled run
    rows = sweeps.wait(g, p, timeout_s=900)
    assert all(r["state"] == "done" for r in rows), rows
    for r in rows:
        assert done_events(runs / r["run_id"]) == 1
    m = json.loads((runs / cancelled / "metrics.json").read_text())
    assert m["resumed_from"], "the resubmitted run should resume from its checkpoint"


@pytest.mark.parametrize("backend", ["ddp", "deepspeed"])
def test_two_rank_job_identical_weights(backend, slurm, tmp_path, shared_cache):
    """One 2-rank SID-GR job through SLURM: torch DDP over gloo, or DeepSpeed ZeRO-2."""
    g = grid_file(tmp_path, backend, {"seed": [0]}, {"train.max_steps": 30, "train.backend": backend})
    p = paths(tmp_path, shared_cache)
    sweeps.submit(g, p, "slurm", profile(tmp_path, tasks_per_node=2, array_parallelism=1))
    rows = sweeps.wait(g, p, timeout_s=900)
    assert rows[0]["state"] == "done", rows
    run_dir = Path(p.runs_dir) / rows[0]["run_id"]
    m = json.loads((run_dir / "metrics.json").read_text())
    hashes = m["rank_weight_sha256"]
    assert m["world_size"] == 2 and len(hashes) == 2 and hashes[0] == hashes[1]
    if backend == "deepspeed":
        assert (run_dir / "ckpt" / "deepspeed" / "last").is_dir()      # DeepSpeed's own sharded checkpoint


def test_missing_partition_is_one_line(slurm, tmp_path, shared_cache):
    g = grid_file(tmp_path, "bad", {"seed": [0]}, {"train.max_steps": 5})
    prof = profile(tmp_path, partition="gpu-nope")
    with pytest.raises(ConfigError, match=rf"{prof}: partition 'gpu-nope' does not exist on this cluster \(sinfo lists: debug\)"):
        sweeps.submit(g, paths(tmp_path, shared_cache), "slurm", prof)
    r = subprocess.run([sys.executable, "-m", "scaling.app", "sweep", "submit", g, "--executor", "slurm",
                        "--profile", prof, "--runs-dir", str(tmp_path / "r")], capture_output=True, text=True)
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1 and "gpu-nope" in r.stderr



def test_failing_array_task_log_path_holds_its_traceback(slurm, tmp_path, shared_cache):
    """`sweep status` names rank 0's stderr where submitit keeps it for an array task (<jobs>/<array>_<task>/)."""
    g = grid_file(tmp_path, "fails", {"seed": [0, 1]}, {"train.max_steps": 5, "data.dataset": "simple:no-such-dir"})
    p = paths(tmp_path, shared_cache)
    sweeps.submit(g, p, "slurm", profile(tmp_path, array_parallelism=2))
    rows = sweeps.wait(g, p, timeout_s=600)
    assert [r["state"] for r in rows] == ["failed", "failed"], rows
    for r in rows:
        assert "_" in r["job_id"]   # array tasks
        log = Path(r["log"])
        assert log.is_file() and "Traceback" in log.read_text() and r["job_id"] in str(log.parent), r


def test_scontrol_requeue_resumes_from_the_step_reached(slurm, tmp_path, shared_cache):
    """No validation checkpoint before the end (eval_every > max_steps): the step reached at `scontrol requeue`
    (SIGTERM) is saved at the next step boundary, and the requeued job resumes from it, not from step 0."""
    g = grid_file(tmp_path, "req", {"seed": [0]}, {"train.max_steps": 1500, "train.eval_every": 100000,
                                                   "train.log_every": 20})
    p = paths(tmp_path, shared_cache)
    sweeps.submit(g, p, "slurm", profile(tmp_path))
    runs = Path(p.runs_dir)
    deadline = time.time() + 600
    while not any(f.stat().st_size > 2000 for f in runs.glob("sidgr-*/tb/events.*")):   # a few logged steps
        assert time.time() < deadline
        time.sleep(0.5)
    row = sweeps.status(g, p)[0]
    assert not (runs / row["run_id"] / "ckpt" / "last.pt").exists()
    subprocess.run(["scontrol", "requeue", row["job_id"]], check=True)
    rows = sweeps.wait(g, p, timeout_s=900)
    assert rows[0]["state"] == "done", rows
    m = json.loads((runs / rows[0]["run_id"] / "metrics.json").read_text())
    assert len(m["resumed_from"]) == 1 and 0 < m["resumed_from"][0] < 1500, m["resumed_from"]
    assert m["steps"] == 1500
