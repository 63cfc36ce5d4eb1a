"""`train.batch_size` is the global batch (issue #24): the same config trained on 2 ranks (real DDP processes over
gloo), on 1 rank with gradient accumulation, and on 1 rank in one forward takes the same optimizer steps over the
same examples and ends with the same weights; a run killed on 2 ranks and resumed on 1 ends like one never killed."""
import os
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.multiprocessing as mp

from scaling.config import ModelConfig, TrainConfig, load
from scaling.errors import ConfigError
from scaling.config import config_hash
from scaling.sidgr.model import TokenLayout, build_model
from scaling.train import Dist, batch_plan, lr_factor, train

N = 70   # two full global batches of 32 and a short one of 6: a short batch splits unevenly
CFG = TrainConfig(batch_size=32, max_steps=10, eval_every=4, patience=100, warmup_steps=3, lr=3e-3)


class Killed(Exception):
    pass


def _data():
    rng = np.random.default_rng(0)
    layout = TokenLayout([8, 8], 0)
    x = torch.from_numpy(rng.integers(3, layout.vocab_size, (N, 6)))
    mask = torch.ones_like(x)
    mask[: N // 2, :2] = 0                                    # some histories are shorter (left padding)
    y = torch.from_numpy(rng.integers(3, layout.vocab_size, (N, 3)))
    y[::3, 2] = -100                                          # examples with fewer target tokens: token weighting
    return layout, x, mask, y


def _fit(cfg: TrainConfig, ckpt: Path, dist: Dist, kill_at: int = 0, on_batch=None, on_eval=None) -> dict:
    """on_batch(n) / on_eval(n): called as the n-th batch is built / the n-th validation runs (1-based)."""
    layout, x, mask, y = _data()
    torch.manual_seed(0)
    model = build_model(ModelConfig(preset="tiny", dropout=0.0, loss="vocab"), layout)
    calls = {"n": 0, "evals": 0}

    def make_batches(epoch):
        idx = np.random.default_rng(epoch).permutation(N)
        return [idx[s:s + cfg.batch_size] for s in range(0, N, cfg.batch_size)]

    def batch_fn(idx):
        calls["n"] += 1
        if kill_at and calls["n"] > kill_at:
            raise Killed
        if on_batch:
            on_batch(calls["n"])
        return {"input_ids": x[idx], "attention_mask": mask[idx], "labels": y[idx]}

    def evaluate(m):
        calls["evals"] += 1
        if on_eval:
            on_eval(calls["evals"])
        return {"score": 0.0}

    state = train(model, cfg, make_batches=make_batches, batch_fn=batch_fn, evaluate=evaluate,
                  metric="score", ckpt_dir=ckpt, seed=0, dist=dist, progress=False)
    return {"weights": {k: v.clone() for k, v in model.state_dict().items()}, "step": state.step,
            "examples": state.examples_seen, "loss": [p["loss"] for p in state.log],
            "grad_norm": [p.get("grad_norm") for p in state.log]}


def _rank(rank: int, world: int, init: str, cfg: TrainConfig, ckpt: str, out: str, kill_at: int) -> None:
    torch.set_num_threads(1)
    torch.distributed.init_process_group("gloo", init_method=init, rank=rank, world_size=world)
    try:
        r = _fit(cfg, Path(ckpt), Dist(rank, world, rank, "cpu"), kill_at)
        if rank == 0:
            torch.save(r, out)
    except Killed:
        pass
    finally:
        torch.distributed.destroy_process_group()


def _two_ranks(tmp_path: Path, cfg: TrainConfig, ckpt: Path, kill_at: int = 0) -> dict | None:
    out = tmp_path / f"out-{os.urandom(4).hex()}.pt"
    init = f"file://{tmp_path / ('pg-' + os.urandom(4).hex())}"
    mp.spawn(_rank, args=(2, init, replace(cfg, backend="ddp"), str(ckpt), str(out), kill_at), nprocs=2, join=True)
    return torch.load(out, weights_only=False) if out.is_file() else None


def _same(a: dict, b: dict) -> None:
    """Same steps, examples and weights. Tolerance: a tenth of one Adam step (lr 3e-3) — Adam turns float noise in
    a near-zero gradient into a full step for a handful of elements (14 of 16,384 here), while averaging the micro
    losses unweighted by their target tokens moves 1,571 elements by up to 7e-3 (measured: the test can fail)."""
    assert a["step"] == b["step"] and a["examples"] == b["examples"]
    for k in a["weights"]:
        torch.testing.assert_close(a["weights"][k], b["weights"][k], atol=3e-4, rtol=0, msg=k)


@pytest.fixture(scope="module")
def one_forward(tmp_path_factory):
    return _fit(CFG, tmp_path_factory.mktemp("c") / "ckpt", Dist())


def test_accumulation_equals_one_forward(one_forward, tmp_path):
    accumulated = _fit(replace(CFG, micro_batch_size=16), tmp_path / "b", Dist())
    assert one_forward["step"] == 10 and one_forward["examples"] == 32 + 32 + 6 + 32 + 32 + 6 + 32 + 32 + 6 + 32
    _same(one_forward, accumulated)
    np.testing.assert_allclose(accumulated["loss"], one_forward["loss"], rtol=1e-4)


def test_two_ranks_equal_one_rank(one_forward, tmp_path):
    _same(one_forward, _two_ranks(tmp_path, replace(CFG, micro_batch_size=16), tmp_path / "a"))
    _same(one_forward, _two_ranks(tmp_path, replace(CFG, micro_batch_size=8), tmp_path / "d"))   # 2 ranks x 2 accum


def test_killed_on_two_ranks_resumed_on_one(one_forward, tmp_path):
    ckpt = tmp_path / "k"
    assert _two_ranks(tmp_path, CFG, ckpt, kill_at=6) is None   # dies at step 7, after the step-4 checkpoint
    resumed = _fit(replace(CFG, micro_batch_size=16), ckpt, Dist())
    _same(one_forward, resumed)


def test_where_a_run_runs_is_not_its_id():
    base = load(overrides=["train.batch_size=32"], bf16=False)
    assert config_hash(base) == config_hash(load(overrides=["train.batch_size=32", "train.micro_batch_size=8"],
                                                 bf16=False))
    assert config_hash(base) != config_hash(load(overrides=["train.batch_size=64"], bf16=False))
    assert config_hash(base) != config_hash(load(overrides=["train.batch_size=32", "train.schedule=cosine"], bf16=False))


def test_plans_that_do_not_divide_are_one_line():
    assert batch_plan(replace(CFG, micro_batch_size=4), 2) == type(batch_plan(CFG, 1))(2, 4, 4)
    with pytest.raises(ConfigError, match="does not split over 3 ranks"):
        batch_plan(CFG, 3)
    with pytest.raises(ConfigError, match="micro_batch_size=5 does not divide"):
        batch_plan(replace(CFG, micro_batch_size=5), 2)
    with pytest.raises(ConfigError, match="exceeds"):
        load(overrides=["train.batch_size=32", "train.micro_batch_size=64"], bf16=False)


def test_schedules_warm_up_then_decay_to_the_floor():
    cos = lr_factor(replace(CFG, schedule="cosine", warmup_steps=10, lr_floor=0.1), total=110)
    lin = lr_factor(replace(CFG, schedule="linear", warmup_steps=10, lr_floor=0.0), total=110)
    const = lr_factor(replace(CFG, warmup_steps=10), total=110)
    assert cos(0) == pytest.approx(0.1) and cos(9) == pytest.approx(1.0) and cos(10) == pytest.approx(1.0)
    assert cos(60) == pytest.approx(0.55) and cos(110) == pytest.approx(0.1) and cos(500) == pytest.approx(0.1)
    assert lin(60) == pytest.approx(0.5) and lin(110) == pytest.approx(0.0)
    assert const(60) == const(110) == 1.0


def test_clipping_bounds_the_update_and_logs_the_norm(tmp_path):
    r = _fit(replace(CFG, clip_norm=1e-3, log_every=2), tmp_path / "clip", Dist())
    free = _fit(CFG, tmp_path / "free", Dist())
    moved = sum(float((r["weights"][k] - free["weights"][k]).abs().max()) for k in r["weights"])
    assert moved > 0   # clipping changed the run
    assert len(r["grad_norm"]) == 5 and all(g > 1e-3 for g in r["grad_norm"])   # the norm before clipping
    assert free["grad_norm"][0] is None   # not computed when nothing asks for it


def test_deepspeed_json_clipping_must_come_from_the_config(tmp_path):
    pytest.importorskip("deepspeed")
    import json

    from scaling.train import _DeepSpeedEngine

    js = tmp_path / "ds.json"
    js.write_text(json.dumps({"zero_optimization": {"stage": 2}, "gradient_clipping": 1.0}))
    with pytest.raises(ConfigError, match="gradient_clipping=1.0.*train.clip_norm"):
        _DeepSpeedEngine(torch.nn.Linear(2, 2), replace(CFG, backend="deepspeed", deepspeed_config=str(js)),
                         Dist(), batch_plan(CFG, 1), 10)


class Requeued(Exception):
    pass


def _submitit_like(signum, frame):   # submitit's USR2 handler: checkpoint, requeue, exit
    raise Requeued


def _usr2(n: int):
    """A hook (for _fit's on_batch / on_eval) that sends this process SIGUSR2 at its n-th call."""
    import signal

    def hook(i: int) -> None:
        if i == n:
            os.kill(os.getpid(), signal.SIGUSR2)
    return hook


def test_a_signal_mid_step_checkpoints_the_step_reached(one_forward, tmp_path):
    """SIGUSR2 (submitit: checkpoint, requeue, exit) lands inside a step; the loop saves at the next step boundary,
    then hands the signal to the handler that was there, which exits; the resumed run ends like one never killed."""
    import signal

    previous = signal.signal(signal.SIGUSR2, _submitit_like)
    try:
        with pytest.raises(Requeued):   # while step 6's batch is built (the last validation checkpoint: step 4)
            _fit(CFG, tmp_path / "p", Dist(), on_batch=_usr2(6))
        assert signal.getsignal(signal.SIGUSR2) is _submitit_like   # the loop's hold is gone with it
    finally:
        signal.signal(signal.SIGUSR2, previous)
    saved = torch.load(tmp_path / "p" / "last.pt", weights_only=False)["state"]
    assert saved["step"] == 6   # step 6 finishes; the save comes at the boundary before step 7
    resumed = _fit(CFG, tmp_path / "p", Dist())
    _same(one_forward, resumed)


def test_a_signal_during_the_last_validation_is_not_dropped(one_forward, tmp_path):
    """A signal that lands while the last step validates (no step boundary follows) still acts once that step is
    saved, instead of being lost with the loop's hold; the resumed run has nothing left to train."""
    import signal

    previous = signal.signal(signal.SIGUSR2, _submitit_like)
    try:
        with pytest.raises(Requeued):   # validations at steps 4, 8, then the final step 10's
            _fit(CFG, tmp_path / "v", Dist(), on_eval=_usr2(3))
    finally:
        signal.signal(signal.SIGUSR2, previous)
    saved = torch.load(tmp_path / "v" / "last.pt", weights_only=False)["state"]
    assert saved["step"] == CFG.max_steps and saved["curve"][-1]["step"] == CFG.max_steps
    _same(one_forward, _fit(CFG, tmp_path / "v", Dist()))


def test_sigterm_saves_the_step_then_ends_the_run(tmp_path):
    """SIGTERM (`scontrol requeue`, preemption) under a handler that returns (submitit ignores SIGTERM): saved at
    the step boundary, then `Preempted` ends the run — a BaseException, so a job's loop over runs stops too."""
    import signal
    import threading

    from scaling.preemption import Preempted

    previous = signal.signal(signal.SIGTERM, lambda s, f: None)
    try:
        timer = threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGTERM))
        timer.start()
        with pytest.raises(Preempted, match="SIGTERM"):
            _fit(replace(CFG, max_steps=100000, eval_every=100000), tmp_path / "t", Dist())
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert not issubclass(Preempted, Exception)
    assert torch.load(tmp_path / "t" / "last.pt", weights_only=False)["state"]["step"] > 0
