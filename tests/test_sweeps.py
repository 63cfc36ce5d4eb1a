"""Grids: expansion, validation; the inline executor on real tiny runs; resubmission."""
import os
import pytest
import yaml

from conftest import REPO, SHARED_DATA
import sweeps
from scaling.config import config_hash
from scaling.errors import ConfigError
from sweeps.grid import load_grid


def write_grid(tmp_path, body: dict, name="g"):
    p = tmp_path / f"{name}.yaml"
    p.write_text(yaml.safe_dump(body))
    return p


def test_product_zip_and_base(tmp_path):
    p = write_grid(tmp_path, {"base": {"data": {"max_users": 100}},
                              "product": {"model.preset": ["tiny", "small"], "seed": [0, 1, 2]},
                              "zip": [{"tokenizer.levels": [2, 3], "tokenizer.width": [256, 64]}]})
    g = load_grid(p)
    assert g.name == "g" and len(g.runs) == 2 * 3 * 2
    assert {(c.tokenizer.levels, c.tokenizer.width) for c in g.runs} == {(2, 256), (3, 64)}
    assert all(c.data.max_users == 100 for c in g.runs)
    assert len({config_hash(c) for c in g.runs}) == 12


def test_only_axes_apply_to_their_paradigm(tmp_path):
    p = write_grid(tmp_path, {"product": {"model.preset": ["tiny"]}, "only": {"sidgr": {"tokenizer.kind": ["rkmeans", "rvq"]}}})
    assert sorted(c.tokenizer.kind for c in load_grid(p).runs) == ["rkmeans", "rvq"]
    bad = write_grid(tmp_path, {"only": {"nope": {"seed": [1]}}}, "bad")
    with pytest.raises(ConfigError, match="unknown paradigm 'nope'"):
        load_grid(bad)


def test_unknown_key_names_file_and_closest(tmp_path):
    p = write_grid(tmp_path, {"product": {"model.presets": ["tiny"]}})
    with pytest.raises(ConfigError, match=rf"{p} \(product\): unknown key 'model.presets'; did you mean 'model.preset'"):
        load_grid(p)
    p = write_grid(tmp_path, {"prodcut": {"seed": [1]}}, "s")
    with pytest.raises(ConfigError, match=r"unknown section 'prodcut'; did you mean 'product'"):
        load_grid(p)
    p = write_grid(tmp_path, {"zip": [{"seed": [1, 2], "tokenizer.width": [64]}]}, "z")
    with pytest.raises(ConfigError, match="equal length"):
        load_grid(p)


@pytest.mark.parametrize("name", ["quick", "paper-rs", "paper-encoder", "paper-tokenizer", "paper-llm", "paper-llm-full",
                                  "llmrs-beauty"])
def test_shipped_grids_load(name):
    assert load_grid(REPO / "sweeps" / "grids" / f"{name}.yaml").runs


@pytest.mark.integration
def test_inline_sweep_submits_only_what_is_missing(tmp_path, shared_cache):
    p = write_grid(tmp_path, {"name": "inl", "base": {"data.max_users": 300, "tokenizer.width": 16, "model.preset": "tiny",
                                                      "train.max_steps": 20, "train.eval_every": 10,
                                                      "eval.valid_users": 50}, "product": {"seed": [0, 1]}})
    paths = sweeps.Paths(str(tmp_path / "runs"), str(shared_cache), str(SHARED_DATA))
    assert sweeps.submit(str(p), paths, dry_run=True)["to_submit"] == 2
    ids = [r["run_id"] for r in sweeps.status(str(p), paths)]
    assert sweeps.submit(str(p), paths, dry_run=True, only=[ids[1]])["to_submit"] == 1   # --only RUN_ID: that run
    assert sweeps.submit(str(p), paths, dry_run=True, only=[ids[1].split("-", 1)[1]])["to_submit"] == 1   # or its hash
    with pytest.raises(ConfigError, match=r"--only sidgr-nope is not a run of this grid; `gr-scaling sweep status"):
        sweeps.submit(str(p), paths, dry_run=True, only=["sidgr-nope"])
    assert sweeps.submit(str(p), paths)["to_submit"] == 2
    assert [r["state"] for r in sweeps.status(str(p), paths)] == ["done", "done"]
    assert sweeps.submit(str(p), paths)["to_submit"] == 0
    import pandas as pd
    from scaling.app.sweep import collect
    assert len(pd.read_parquet(collect(str(p), paths).with_suffix(".parquet"))) == 2


def test_profile_validation(tmp_path):
    from sweeps.profile import load_profile
    p = tmp_path / "p.yaml"
    p.write_text("partition: debug\narray_paralelism: 4\n")
    with pytest.raises(ConfigError, match=r"unknown profile key 'array_paralelism'; did you mean 'array_parallelism'"):
        load_profile(p)
    p.write_text("partition: debug\nruns_per_job: 0\n")
    with pytest.raises(ConfigError, match="must be >= 1"):
        load_profile(p)
    with pytest.raises(ConfigError, match="profile .* not found"):
        load_profile(tmp_path / "none.yaml")
    prof = load_profile(REPO / "slurm" / "profiles" / "example-gpu.yaml")
    params = prof.submitit_parameters()
    assert params["slurm_partition"] == "gpu" and params["gpus_per_node"] == 4 and params["tasks_per_node"] == 4
    assert params["slurm_setup"][0].startswith("module load")
    p.write_text("gres: gpu:4\ngpus_per_node: 4\n")
    with pytest.raises(ConfigError, match="set one of gpus_per_node, gpus_per_task and gres"):
        load_profile(p)


@pytest.mark.integration   # submitit renders sbatch only where `srun` is on PATH (the local SLURM of CI)
def test_sbatch_asks_for_gpus_three_ways(tmp_path):
    """What sbatch receives, rendered by submitit itself from our executor."""
    from sweeps.executors.submitit_backend import SubmititExecutor
    from sweeps.profile import load_profile
    p = tmp_path / "p.yaml"

    def sbatch(text: str) -> str:
        p.write_text(text)
        ex = SubmititExecutor("slurm", tmp_path, load_profile(p))._executor()
        return ex._executor._make_submission_file_text("true", "uid")

    assert "#SBATCH --gpus-per-node=4" in sbatch("gpus_per_node: 4\ntasks_per_node: 4\n")
    assert "#SBATCH --gpus-per-task=1" in sbatch("gpus_per_task: 1\ntasks_per_node: 4\n")
    s = sbatch("gres: gpu:h100:4\ntasks_per_node: 4\n")
    assert "#SBATCH --gres=gpu:h100:4" in s and "#SBATCH --ntasks-per-node=4" in s


def test_run_left_running_by_a_dead_process_is_resubmitted(tmp_path):
    """A killed inline sweep leaves status 'running'; a resubmission must see the run as failed."""
    import socket
    import subprocess

    from scaling.record import orphaned, write_status

    dead = subprocess.Popen(["true"])
    dead.wait()
    d = tmp_path / "run"
    d.mkdir()
    write_status(d, "running")
    (d / "events.log").write_text(f"1.0 start {socket.gethostname()} {dead.pid}\n")
    assert orphaned(d) == f"process {dead.pid} on {socket.gethostname()} ended without finishing the run"
    (d / "events.log").write_text(f"1.0 start {socket.gethostname()} {os.getpid()}\n")
    assert orphaned(d) is None                                   # still alive: in flight
    (d / "events.log").write_text("1.0 start some-other-node 1\n")
    assert orphaned(d) is None                                   # another host: cannot tell, trust the scheduler


def test_run_started_by_a_live_process_is_not_run_twice(tmp_path):
    import socket
    import subprocess

    from scaling import config
    from scaling.record import write_status
    from scaling.run import run, run_dir_for

    cfg = config.load(overrides=["data.max_users=300"])
    d = run_dir_for(cfg, tmp_path)
    d.mkdir(parents=True)
    write_status(d, "running")
    other = subprocess.Popen(["sleep", "30"])
    try:
        (d / "events.log").write_text(f"1.0 start {socket.gethostname()} {other.pid}\n")
        said = []
        assert run(cfg, tmp_path, log=said.append) == d
        assert "already running in process" in said[0] and not (d / "config.json").exists()
    finally:
        other.kill()


def test_dry_run_estimates_every_run_of_both_paradigms():
    """quick.yaml: step-bounded SID-GR runs, epoch-bounded LLM-as-RS runs on the offline aliases' shapes, each
    counted from its own shape and examples; a model whose config is unreachable is named, not guessed."""
    from dataclasses import replace

    from sweeps.launcher import estimate
    runs = load_grid(REPO / "sweeps" / "grids" / "quick.yaml").runs
    est = estimate(runs, str(SHARED_DATA), gpu_tflops=100.0)
    assert all(r["pflop"] and r["pflop"] > 0 and r["steps"] for r in est["runs"]), est["runs"]
    assert est["train_pflop"] == pytest.approx(sum(r["pflop"] for r in est["runs"]))
    assert est["gpu_hours"] == pytest.approx(est["train_pflop"] * 1e15 / 100e12 / 3600)
    llm = [c for c in runs if c.paradigm == "llmrs"]
    big = replace(llm[0], llm=replace(llm[0].llm, name="Qwen/Qwen3-14B"))
    small = estimate([llm[0]], str(SHARED_DATA))["runs"][0]["pflop"]
    assert estimate([big], str(SHARED_DATA))["runs"][0]["pflop"] > 50 * small   # 14.8B vs 135M parameters
    gone = replace(llm[0], llm=replace(llm[0].llm, name="no-such-org/no-such-model"))
    assert "1 LLM-as-RS runs not counted" in estimate([gone], str(SHARED_DATA))["note"]


def test_quick_grid_has_the_ladders_the_quickstart_promises():
    """quick.yaml: >= 4 recommender sizes, >= 3 encoders, 2 RK-Means L x W, 2 LLM sizes with LoRA, the ID-only
    probe, and a LoRA ladder the analysis finds as one LLM-as-RS axis (>= 4 trainable sizes, all else equal)."""
    import pandas as pd

    from analysis.study import axis_runs
    from scaling.config import flatten

    runs = load_grid(REPO / "sweeps" / "grids" / "quick.yaml").runs
    sid = [c for c in runs if c.paradigm == "sidgr"]
    llm = [c for c in runs if c.paradigm == "llmrs"]
    assert len({c.model.preset for c in sid}) >= 4 and len({c.encoder.name for c in sid}) >= 3
    assert len({(c.tokenizer.levels, c.tokenizer.width) for c in sid if c.tokenizer.kind == "rkmeans"}) == 2
    assert {c.llm.name for c in llm if c.llm.finetune == "lora" and c.llm.probe == "none"} >= {"smollm2", "gemma3-270m"}
    assert any(c.llm.probe == "id_only" for c in llm)
    df = pd.DataFrame([{**flatten(c.to_dict()), "run_id": i, "n_trainable": c.llm.lora_r}   # rank stands in for size
                       for i, c in enumerate(llm)])
    assert axis_runs(df, "lora")["llm.lora_r"].nunique() >= 4


@pytest.mark.integration
def test_packed_job_runs_its_runs_at_once(tmp_path, shared_cache):
    """runs_per_gpu: one job, two runs in two processes at the same time, each with its own complete record."""
    prof = tmp_path / "packed.yaml"
    prof.write_text("time_min: 20\ncpus_per_task: 2\nruns_per_job: 2\nruns_per_gpu: 2\n")
    p = write_grid(tmp_path, {"name": "packed", "base": {"data.max_users": 300, "tokenizer.width": 16,
                                                         "model.preset": "tiny", "train.max_steps": 30,
                                                         "train.eval_every": 30, "eval.valid_users": 50},
                              "product": {"seed": [0, 1]}})
    paths = sweeps.Paths(str(tmp_path / "runs"), str(shared_cache), str(SHARED_DATA))
    counts = sweeps.submit(str(p), paths, executor="local", profile=str(prof))
    assert counts["jobs"] == 1
    rows = sweeps.wait(str(p), paths, timeout_s=600)
    assert [r["state"] for r in rows] == ["done", "done"], rows
    spans = []
    for d in sorted((tmp_path / "runs").glob("sidgr-*")):
        ev = [ln.split() for ln in (d / "events.log").read_text().splitlines()]
        start = next(float(e[0]) for e in ev if e[1] == "start")
        end = next(float(e[0]) for e in ev if e[1] == "done")
        spans.append((start, end, next(e[3] for e in ev if e[1] == "start")))
        assert (d / "outcomes.npz").is_file() and (d / "serving.json").is_file()
    (s0, e0, pid0), (s1, e1, pid1) = spans
    assert pid0 != pid1 and s0 < e1 and s1 < e0      # separate processes, running at the same time


def test_inline_cpus_pack_runs_and_the_tracker_groups_them_by_grid(tmp_path, shared_cache, monkeypatch):
    """`sweep submit --cpus 2` (inline): two runs in two processes at the same time, one thread each, each its own
    record; with train.tracker mlflow every run is an MLflow run named by its id in the experiment named by the grid,
    its loss history the record's curve; resubmitted, nothing runs again; --cpus elsewhere is one line."""
    pytest.importorskip("mlflow")
    import json

    from test_curves import _mlflow_history

    monkeypatch.setenv("OMP_NUM_THREADS", "2")
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")   # for the reading client here; the runs set it themselves
    p = write_grid(tmp_path, {"name": "inl-packed", "base": {
        "data.max_users": 300, "tokenizer.width": 16, "model.preset": "tiny", "train.max_steps": 30,
        "train.eval_every": 15, "train.log_every": 5, "eval.valid_users": 50, "train.tracker": "mlflow"},
        "product": {"seed": [0, 1]}})
    paths = sweeps.Paths(str(tmp_path / "runs"), str(shared_cache), str(SHARED_DATA))
    assert sweeps.submit(str(p), paths, cpus=2)["to_submit"] == 2
    assert [r["state"] for r in sweeps.status(str(p), paths)] == ["done", "done"]
    spans = []
    for d in sorted((tmp_path / "runs").glob("sidgr-*")):
        ev = [ln.split() for ln in (d / "events.log").read_text().splitlines()]
        spans.append((next(float(e[0]) for e in ev if e[1] == "start"), next(float(e[0]) for e in ev if e[1] == "done"),
                      next(e[3] for e in ev if e[1] == "start")))
        assert json.loads((d / "serving.json").read_text())["threads"] == 1
        hist, params = _mlflow_history(f"file:{tmp_path / 'runs' / 'mlruns'}", "inl-packed", d.name)
        curve = json.loads((d / "curves.json").read_text())["train"]
        assert [s for s, _ in hist["train/loss"]] == curve["step"] == [5, 10, 15, 20, 25, 30]
        assert [v for _, v in hist["train/loss"]] == pytest.approx(curve["loss"], rel=1e-6)
        assert params["model.preset"] == "tiny" and params["train.tracker_group"] == "inl-packed"
    (s0, e0, pid0), (s1, e1, pid1) = spans
    assert pid0 != pid1 and s0 < e1 and s1 < e0      # separate processes, running at the same time
    assert sweeps.submit(str(p), paths, cpus=2)["to_submit"] == 0
    with pytest.raises(ConfigError, match="--cpus packs runs of the inline executor"):
        sweeps.submit(str(p), paths, executor="local", cpus=2, dry_run=True)


def test_packing_profile_validation(tmp_path):
    from sweeps.profile import load_profile
    p = tmp_path / "p.yaml"
    p.write_text("runs_per_job: 2\nruns_per_gpu: 4\n")
    with pytest.raises(ConfigError, match="runs_per_gpu .4. > runs_per_job .2."):
        load_profile(p)
    p.write_text("runs_per_job: 8\nruns_per_gpu: 4\ntasks_per_node: 2\n")
    with pytest.raises(ConfigError, match="cannot be combined with tasks_per_node > 1"):
        load_profile(p)
    assert load_profile(REPO / "slurm" / "profiles" / "example-gpu-packed.yaml").runs_per_gpu == 4


def test_status_shows_where_a_running_run_stands(tmp_path):
    import socket

    from scaling.record import write_json, write_status
    from scaling.run import run_dir_for

    p = write_grid(tmp_path, {"product": {"model.preset": ["tiny", "small"]}})
    paths = sweeps.Paths(str(tmp_path / "runs"))
    d = run_dir_for(load_grid(p).runs[0], paths.runs_dir)
    (d / "ckpt").mkdir(parents=True)
    write_status(d, "running")
    (d / "events.log").write_text(f"1.0 start {socket.gethostname()} {os.getpid()}\n")   # alive: this process
    write_json(d / "ckpt" / "progress.json", {"step": 1500, "epoch": 1, "max_steps": 0, "metric": "ndcg@10",
                                              "best": 0.018, "best_step": 1500, "bad_evals": 0, "patience": 5,
                                              "examples_per_s": 944.0, "eta_s": None})
    rows = sweeps.status(str(p), paths)
    assert [r["state"] for r in rows] == ["running", "missing"]
    assert rows[0]["progress"] == "step 1500 (epoch 1), best ndcg@10 0.0180 @1500, 0/5 bad, 944 ex/s"
    from sweeps.launcher import status_table
    assert "step 1500 (epoch 1)" in status_table(rows).splitlines()[1]


def test_dense_ladder_lr_controls_differ_from_the_ladder_only_in_lr():
    """dense-ladder-lr's runs join the dense-core ladder's curve (analysis.study.TUNED): every config key but
    train.lr equals that of the ladder's run of the same preset, and every lr is one the ladder does not run."""
    from scaling.config import flatten

    ladder = {c.model.preset: flatten(c.to_dict()) for c in load_grid(REPO / "sweeps" / "grids" / "dense-ladder.yaml").runs}
    controls = load_grid(REPO / "sweeps" / "grids" / "dense-ladder-lr.yaml").runs
    assert len(controls) >= 2
    for c in controls:
        mine = flatten(c.to_dict())
        assert {k: v for k, v in mine.items() if v != ladder[c.model.preset][k]} == {"train.lr": c.train.lr}


@pytest.mark.parametrize("name", ["paper-rs", "dense-ladder"])
def test_size_ladders_set_each_preset_its_rule_lr(name):
    from scaling.sidgr.presets import lr_rule

    runs = load_grid(REPO / "sweeps" / "grids" / f"{name}.yaml").runs
    want = {f"t2-{s}" for s in ("336k", "778k", "1.9m", "3.3m", "6.7m", "13m", "21m", "43m", "88m", "192m")} \
        if name == "paper-rs" else {"tiny", "small", "grid", "medium"}   # paper-rs: the 2025 study's Table 2
    assert {c.model.preset for c in runs} >= want
    for c in runs:
        assert c.train.lr == pytest.approx(lr_rule(c.model.preset, c.model.arch), rel=1e-4), c.model.preset
    assert lr_rule("small") == 1e-3 == lr_rule("tiny") and lr_rule("grid") == 5e-4
    assert lr_rule("large") == pytest.approx(1e-3 / 12) and lr_rule("small", "decoder") == 1e-3
