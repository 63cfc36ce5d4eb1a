"""The training loop: resume after interruption gives the same weights as an uninterrupted run;
early stopping; best weights restored."""
import numpy as np
import pytest
import torch

from scaling.config import ModelConfig, TrainConfig
from scaling.sidgr.model import TokenLayout, build_model


def _setup(seed=0):
    rng = np.random.default_rng(seed)
    layout = TokenLayout([4, 4], 0)
    x = torch.from_numpy(rng.integers(3, layout.vocab_size, (64, 6)))
    y = torch.from_numpy(rng.integers(3, layout.vocab_size, (64, 2)))
    torch.manual_seed(seed)
    model = build_model(ModelConfig(preset="tiny", dropout=0.1), layout)
    return model, x, y


def _train(model, x, y, ckpt, cfg, evaluate=None):
    from scaling.train import train

    def make_batches(epoch):
        return np.array_split(np.random.default_rng(epoch).permutation(len(x)), 4)

    def batch_fn(idx):
        return {"input_ids": x[idx], "attention_mask": torch.ones_like(x[idx]), "labels": y[idx]}

    return train(model, cfg, make_batches=make_batches, batch_fn=batch_fn,
                 evaluate=evaluate or (lambda m: {"score": 0.0}), metric="score", ckpt_dir=ckpt, seed=0,
                 progress=False)


def test_resume_matches_uninterrupted(tmp_path):
    cfg = TrainConfig(max_steps=12, eval_every=4, patience=100, warmup_steps=3)
    full, x, y = _setup()
    _train(full, x, y, tmp_path / "a", cfg)
    first, _, _ = _setup()
    st = _train(first, x, y, tmp_path / "b", TrainConfig(max_steps=8, eval_every=4, patience=100, warmup_steps=3))
    assert st.step == 8
    resumed, _, _ = _setup(seed=99)                 # different init: everything must come from the checkpoint
    st = _train(resumed, x, y, tmp_path / "b", cfg)
    assert st.resumed_from == [8] and st.step == 12
    for (n, a), b in zip(full.state_dict().items(), resumed.state_dict().values()):
        assert torch.equal(a, b), n


def test_early_stop_and_best_weights(tmp_path):
    model, x, y = _setup()
    scores = iter([0.1, 0.5, 0.2, 0.3, 0.1, 0.0, 0.0])
    snapshots = []

    def evaluate(m):
        snapshots.append({k: v.clone() for k, v in m.state_dict().items()})
        return {"score": next(scores)}

    st = _train(model, x, y, tmp_path, TrainConfig(max_steps=100, eval_every=2, patience=3), evaluate)
    assert st.stopped_early and st.step == 10 and st.best_step == 4 and st.best_metric == 0.5
    assert all(torch.equal(v, snapshots[1][k]) for k, v in model.state_dict().items())


def test_progress_file_follows_the_checkpoints(tmp_path):
    import json

    from scaling.record import progress_line

    model, x, y = _setup()
    scores = iter([0.1, 0.5, 0.2])
    _train(model, x, y, tmp_path, TrainConfig(max_steps=6, eval_every=2, patience=5),
           lambda m: {"score": next(scores)})
    p = json.loads((tmp_path / "progress.json").read_text())
    assert (p["step"], p["best_step"], p["best"], p["bad_evals"], p["max_steps"]) == (6, 4, 0.5, 1, 6)
    assert [c["score"] for c in p["curve"]] == [0.1, 0.5, 0.2] and p["examples_per_s"] > 0 and p["eta_s"] == 0
    line = progress_line(p)
    assert line.startswith("step 6/6 (epoch 1), best score 0.5000 @4, 1/5 bad, ") and "ETA 0 min" in line
    p.update(max_steps=0, eta_s=None, best=None)   # stopped by validation only, before its first validation
    assert progress_line(p).startswith("step 6 (epoch 1), not validated yet, 1/5 bad, ") and "ETA" not in progress_line(p)


def test_autocast_bfloat16_trains_in_bf16_and_keeps_fp32_weights(tmp_path):
    """train.autocast=bfloat16: the forward's linear layers compute in bf16, weights and optimizer stay fp32,
    and the loss still falls on a batch the model can fit."""
    from scaling.train import _autocast

    model, x, y = _setup()
    seen = []
    linear = next(m for m in model.modules() if isinstance(m, torch.nn.Linear))
    hook = linear.register_forward_hook(lambda m, i, o: seen.append(o.dtype))
    cfg = TrainConfig(max_steps=60, eval_every=60, patience=100, warmup_steps=1, lr=3e-3, autocast="bfloat16")

    def loss():
        with torch.no_grad(), _autocast(model, cfg):
            return model(input_ids=x, attention_mask=torch.ones_like(x), labels=y).loss.item()

    first = loss()
    st = _train(model, x, y, tmp_path, cfg)
    last = loss()
    hook.remove()
    assert st.step == 60 and torch.bfloat16 in seen
    assert all(p.dtype == torch.float32 for p in model.parameters())
    assert last < 0.7 * first


def test_autocast_config_choices():
    from scaling import config
    from scaling.errors import ConfigError

    assert config.load(overrides=["train.autocast=bfloat16"]).train.autocast == "bfloat16"
    with pytest.raises(ConfigError, match=r"key 'train.autocast' = 'fp16'; choose one of none, bfloat16"):
        config.load(overrides=["train.autocast=fp16"])
    with pytest.raises(ConfigError, match=r"'train.autocast' is for backend single/ddp; with deepspeed set \"bf16\""):
        config.load(overrides=["train.autocast=bfloat16", "train.backend=deepspeed"])
    # a new key is hashed only when set: run ids of existing runs (autocast none) do not change. The loaded default
    # `auto` is none where bf16 is emulated and bfloat16 where native, whichever CPU runs this test (bf16= says which)
    for native, same, other in ((False, "none", "bfloat16"), (True, "bfloat16", "none")):
        d = config.load(bf16=native)
        assert config.config_hash(d) == config.config_hash(config.load(overrides=[f"train.autocast={same}"]))
        assert config.config_hash(d) != config.config_hash(config.load(overrides=[f"train.autocast={other}"]))


def test_compiled_training_matches_eager(tmp_path):
    """train.compile=on (torch.compile of the training forward, inductor on this CPU) trains the same model: the same
    losses within float noise over 8 steps (dropout off: the compiled graph draws its own dropout masks), the kept
    weights' names unchanged (the eager module's, so a compiled run's checkpoint loads eagerly)."""
    from dataclasses import replace

    cfg = TrainConfig(max_steps=8, eval_every=8, log_every=1, patience=100, warmup_steps=2, lr=1e-3)
    states = {}
    for compiled in (False, True):
        _, x, y = _setup()
        torch.manual_seed(0)
        model = build_model(ModelConfig(preset="tiny", dropout=0.0), TokenLayout([4, 4], 0))
        states[compiled] = _train(model, x, y, tmp_path / str(compiled), replace(cfg, compile=compiled))
        best = torch.load(tmp_path / str(compiled) / "best.pt", weights_only=True)
        assert not any("_orig_mod" in k for k in best)
    eager, comp = ([p["loss"] for p in states[c].log] for c in (False, True))
    assert len(eager) == len(comp) == 8
    assert comp == pytest.approx(eager, rel=1e-4), (eager, comp)
