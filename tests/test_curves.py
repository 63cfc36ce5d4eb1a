"""Training curves (issue #28): the loss, learning rate and rates every train.log_every steps, in the record
(curves.json) and in TensorBoard event files that tensorboard's own reader reads back; a killed and resumed run has
each logged step once; analysis.load_curves and the report's training figure."""
import json

import numpy as np
import pytest
import torch

from conftest import SHARED_DATA
from scaling import config
from scaling.config import TrainConfig
from scaling.curves import TensorBoardCurves

from test_train import _setup


def _events(log_dir) -> dict:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(log_dir), size_guidance={"scalars": 0})
    acc.Reload()
    return {tag: [(e.step, e.value) for e in acc.Scalars(tag)] for tag in acc.Tags()["scalars"]}


def _train(model, x, y, ckpt, cfg, curves, fail_at=None):
    from scaling.train import train

    calls = {"n": 0}

    def make_batches(epoch):
        return np.array_split(np.random.default_rng(epoch).permutation(len(x)), 4)

    def batch_fn(idx):
        calls["n"] += 1
        if fail_at is not None and calls["n"] == fail_at:
            raise KeyboardInterrupt("killed")      # as a SIGINT'd or preempted process: mid-epoch, past a log
        return {"input_ids": x[idx], "attention_mask": torch.ones_like(x[idx]), "labels": y[idx]}

    return train(model, cfg, make_batches=make_batches, batch_fn=batch_fn, evaluate=lambda m: {"score": 0.5},
                 metric="score", ckpt_dir=ckpt, seed=0, progress=False, curves=curves)


def test_a_killed_and_resumed_run_logs_each_step_once(tmp_path):
    """Checkpoint at step 8, killed at step 11 after logging 10: the resumed run's curve (checkpointed state) and its
    TensorBoard events (purged past the checkpoint) hold steps 2, 4, ..., 16 once each — as an uninterrupted run."""
    pytest.importorskip("tensorboard")
    cfg = TrainConfig(max_steps=16, eval_every=8, log_every=2, patience=100, warmup_steps=3)
    full, x, y = _setup()
    whole = _train(full, x, y, tmp_path / "a", cfg, TensorBoardCurves(tmp_path / "a" / "tb"))
    model, _, _ = _setup()
    with pytest.raises(KeyboardInterrupt):
        _train(model, x, y, tmp_path / "b", cfg, TensorBoardCurves(tmp_path / "b" / "tb"), fail_at=11)
    resumed_model, _, _ = _setup(seed=99)
    resumed = _train(resumed_model, x, y, tmp_path / "b", cfg, TensorBoardCurves(tmp_path / "b" / "tb"))
    steps = list(range(2, 17, 2))
    assert resumed.resumed_from == [8]
    assert [p["step"] for p in resumed.log] == [p["step"] for p in whole.log] == steps
    assert [p["loss"] for p in resumed.log] == pytest.approx([p["loss"] for p in whole.log], rel=1e-5)
    events, reference = _events(tmp_path / "b" / "tb"), _events(tmp_path / "a" / "tb")
    assert [s for s, _ in events["train/loss"]] == steps
    assert [v for _, v in events["train/loss"]] == pytest.approx([v for _, v in reference["train/loss"]], rel=1e-5)
    assert [s for s, _ in events["valid/score"]] == [8, 16]
    assert {p["examples"] for p in resumed.log} == {p["examples"] for p in whole.log}
    assert all(p["lr"] > 0 and p["examples_per_s"] > 0 for p in resumed.log)


def test_progress_line_shows_the_last_logged_loss():
    from scaling.record import progress_line

    p = {"step": 150, "epoch": 0, "max_steps": 0, "metric": "ndcg@10", "best": 0.02, "best_step": 150,
         "bad_evals": 0, "patience": 5, "examples_per_s": 900.0, "eta_s": None,
         "last_log": {"step": 150, "loss": 3.2109}}
    assert progress_line(p) == "step 150 (epoch 0), loss 3.211, best ndcg@10 0.0200 @150, 0/5 bad, 900 ex/s"


def test_log_every_is_not_part_of_a_run_id():
    assert config.config_hash(config.load(overrides=["train.log_every=7"])) == config.config_hash(config.load())


@pytest.mark.integration
def test_a_real_run_writes_curves_tensorboard_reads_back(tmp_path, shared_cache):
    """A real SID-GR run on Beauty's dense core: TensorBoard's EventAccumulator reads its loss and validation
    scalars, the loss falls between its first and last log, curves.json holds the same points, and load_curves and
    the report's training figure are made from the record."""
    pytest.importorskip("tensorboard")
    import analysis
    from analysis.report import write_report
    from scaling.run import run

    base = ["data.max_items=1000", "data.min_sequence=5", "data.max_users=1000", "tokenizer.width=32",
            "train.batch_size=64", "train.max_steps=120", "train.eval_every=40", "train.log_every=10",
            "train.warmup_steps=10", "train.lr=1e-3", "eval.valid_users=100", "eval.test_users=100"]
    dirs = [run(config.load(overrides=[*base, f"model.preset={p}"]), tmp_path / "runs", shared_cache, SHARED_DATA,
                progress=False) for p in ("tiny", "t2-336k", "small")]   # three sizes: a ladder; the cheapest three
    events = _events(dirs[0] / "tb")
    loss = events["train/loss"]
    assert [s for s, _ in loss] == list(range(10, 121, 10))
    assert loss[-1][1] < loss[0][1], loss
    assert [s for s, _ in events["valid/ndcg@10"]] == [40, 80, 120] and "train/lr" in events
    cur = json.loads((dirs[0] / "curves.json").read_text())
    assert cur["train"]["step"] == [s for s, _ in loss]
    assert cur["train"]["loss"] == pytest.approx([v for _, v in loss], rel=1e-6)
    df = analysis.load_curves(tmp_path / "runs")
    assert set(df["run_id"]) == {d.name for d in dirs}
    assert {"train/loss", "train/lr", "valid/ndcg@10"} <= set(df["metric"])
    assert (df["flops"] > 0).all() and df.attrs["best_step"][dirs[0].name] in (40, 80, 120)
    report = write_report(tmp_path / "runs", tmp_path / "report", n_boot=50)
    assert (tmp_path / "report" / "figures" / "training-recommender.png").is_file()
    assert "figures/training-recommender.png" in report.read_text()


def _mlflow_history(uri: str, group: str, run_id: str) -> tuple[dict, dict]:
    """{metric: [(step, value)]} and params of the MLflow run tagged with our run id, read by MLflow's own client."""
    from mlflow.tracking import MlflowClient

    from scaling.trackers import TAG

    c = MlflowClient(tracking_uri=uri)
    exp = c.get_experiment_by_name(group)
    assert exp is not None, f"no MLflow experiment {group!r}"
    runs = c.search_runs([exp.experiment_id], filter_string=f"tags.`{TAG}` = '{run_id}'")
    assert len(runs) == 1, [r.info.run_name for r in runs]
    r = runs[0]
    assert r.info.run_name == run_id and r.info.status == "FINISHED"
    return ({k: [(m.step, m.value) for m in c.get_metric_history(r.info.run_id, k)] for k in r.data.metrics},
            r.data.params)


def test_mlflow_sink_killed_and_resumed_holds_each_step_once(tmp_path, monkeypatch):
    """The tracker sink in its offline mode (MLflow's local file store): a run killed at step 11 (last checkpoint at 8)
    and resumed is one MLflow run (found by its id tag) whose loss history has steps 2..16 once each, equal to the
    uninterrupted run's TensorBoard curve; validation scalars and the config's params are there."""
    pytest.importorskip("mlflow")
    from scaling.trackers import Curves, MLflowCurves

    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    uri = f"file:{tmp_path / 'mlruns'}"
    cfg = TrainConfig(max_steps=16, eval_every=8, log_every=2, patience=100, warmup_steps=3)

    def sinks(name):
        return Curves([TensorBoardCurves(tmp_path / name / "tb"),
                       MLflowCurves(f"run-{name}", "grid-x", uri, {"model.preset": "tiny", "train.lr": 1e-3})])

    full, x, y = _setup()
    _train(full, x, y, tmp_path / "a", cfg, sinks("a"))
    model, _, _ = _setup()
    with pytest.raises(KeyboardInterrupt):
        _train(model, x, y, tmp_path / "b", cfg, sinks("b"), fail_at=11)
    resumed, _, _ = _setup(seed=99)
    _train(resumed, x, y, tmp_path / "b", cfg, sinks("b"))
    hist, params = _mlflow_history(uri, "grid-x", "run-b")
    steps = [s for s, _ in hist["train/loss"]]
    assert steps == list(range(2, 17, 2)), steps                        # once each, no gap, no duplicate
    ref = _events(tmp_path / "a" / "tb")["train/loss"]
    assert [v for _, v in hist["train/loss"]] == pytest.approx([v for _, v in ref], rel=1e-5)
    assert [s for s, _ in hist["valid/score"]] == [8, 16] and "train/lr" in hist
    assert params == {"model.preset": "tiny", "train.lr": "0.001"}
    whole, _ = _mlflow_history(uri, "grid-x", "run-a")
    assert [s for s, _ in whole["train/loss"]] == steps


def test_tracker_off_imports_nothing_and_keys_stay_out_of_the_id():
    """With train.tracker none (the default) a run's sinks are TensorBoard only and mlflow is never imported; the
    tracker keys never change a run's id."""
    import subprocess
    import sys

    code = ("import sys, pathlib; from scaling import config; from scaling.trackers import make_curves; "
            "c = make_curves(config.load().train, pathlib.Path('/tmp/x/run'), {}); "
            "print(len(c.sinks), 'mlflow' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["1", "False"]
    assert config.config_hash(config.load(overrides=["train.tracker=mlflow", "train.tracker_uri=file:/x",
                                                     "train.tracker_group=g"])) == config.config_hash(config.load())
