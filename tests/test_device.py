"""The one device path, tested on a CPU: train.device never changes a run's id; the device is decided once;
the training loop moves each batch to it and places the model; the decode loop moves inputs to the model's
device and results back; checkpoints load with map_location and carry CUDA RNG state, so a run started on
one kind of device resumes on another; the best validation's per-user outcomes survive a resume."""
import numpy as np
import pytest
import torch

from scaling import config
from scaling.data.split import Examples
from scaling.decode import Decoder, recommend
from scaling.errors import ConfigError
from scaling.train import Dist, TrainState, resolve_device, set_rng_state

from test_train import _setup, _train


def test_device_key_never_changes_the_run_id():
    base = config.load()
    for d in ("cpu", "cuda", "auto"):
        assert config.config_hash(config.load(overrides=[f"train.device={d}"])) == config.config_hash(base)
    with pytest.raises(ConfigError, match="train.device"):
        config.load(overrides=["train.device=tpu"])


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the CPU-only answer")
def test_device_is_decided_once_from_the_machine():
    assert resolve_device("auto") == "cpu" and resolve_device("cpu") == "cpu"
    with pytest.raises(ConfigError, match="train.device=cuda but torch sees no CUDA device"):
        resolve_device("cuda")
    d = Dist.from_env()
    assert d.device == "cpu" and d.on("cpu").device == "cpu" and d.on("auto") == d


class _Probe(torch.nn.Module):
    """Records the device of every batch the training loop hands it."""

    def __init__(self, inner):
        super().__init__()
        self.inner, self.seen = inner, []

    def forward(self, **batch):
        self.seen.append({k: v.device.type for k, v in batch.items()})
        return self.inner(**batch)


def test_training_loop_moves_batches_to_the_device(tmp_path):
    model, x, y = _setup()
    probe = _Probe(model)
    from scaling.config import TrainConfig
    from scaling.train import train

    train(probe, TrainConfig(max_steps=3, eval_every=3, warmup_steps=1), make_batches=lambda e: [np.arange(8)] * 4,
          batch_fn=lambda idx: {"input_ids": x[idx], "attention_mask": torch.ones_like(x[idx]), "labels": y[idx]},
          evaluate=lambda m: {"score": 0.0}, metric="score", ckpt_dir=tmp_path, seed=0, progress=False,
          dist=Dist(device="cpu"))
    assert len(probe.seen) == 3 and all(set(s.values()) == {"cpu"} for s in probe.seen)
    assert next(model.parameters()).device.type == "cpu"


def test_decode_loop_moves_inputs_to_the_models_device_and_results_back():
    """A model on the `meta` device (no data, any host): the loop must hand the search its inputs there."""
    model = torch.nn.Linear(2, 2, device="meta")
    seen = []

    def search(m, sync, input_ids, attention_mask):
        assert sync is None   # one process: nothing to keep in step
        seen.append((input_ids.device.type, attention_mask.device.type))
        return torch.arange(len(input_ids) * 3).view(-1, 3)   # on the CPU: the loop brings results back as numpy

    ex = Examples(np.zeros((7, 4), dtype=np.int64), np.arange(7), np.arange(7))
    dec = Decoder(model, lengths=lambda e: e.lengths,
                  inputs=lambda e, idx: {"input_ids": torch.zeros(len(idx), 4, dtype=torch.long),
                                         "attention_mask": torch.ones(len(idx), 4, dtype=torch.long)},
                  search=search, to_items=lambda ids, k: ids[:, :k], beam_size=3, batch_size=3)
    out = recommend(dec, ex)
    assert seen == [("meta", "meta")] * 3 and out.top.shape == (7, 3) and out.device == "meta"
    assert out.seconds > 0


def test_checkpoint_from_a_gpu_resumes_on_a_cpu(tmp_path):
    """A last.pt as a CUDA run writes it (RNG state with a CUDA part) resumes on a CPU-only machine."""
    cfg_short = dict(max_steps=4, eval_every=2, patience=100, warmup_steps=1)
    from scaling.config import TrainConfig

    model, x, y = _setup()
    _train(model, x, y, tmp_path, TrainConfig(**cfg_short))
    ck = torch.load(tmp_path / "last.pt", weights_only=False)
    assert set(ck["rng"]) == {"cpu", "cuda"}
    ck["rng"]["cuda"] = [torch.zeros(16, dtype=torch.uint8)]   # what one GPU's generator state looks like
    torch.save(ck, tmp_path / "last.pt")
    resumed, _, _ = _setup(seed=5)
    st = _train(resumed, x, y, tmp_path, TrainConfig(**{**cfg_short, "max_steps": 6}))
    assert st.resumed_from == [4] and st.step == 6


def test_old_checkpoints_with_a_bare_rng_state_still_resume():
    state = torch.get_rng_state()
    set_rng_state(state)                 # checkpoints written before the device path held the CPU state alone
    assert torch.equal(torch.get_rng_state(), state)


def test_best_validation_outcomes_survive_resume(tmp_path):
    from scaling.config import TrainConfig

    scores = iter([0.1, 0.5, 0.2, 0.3, 0.1])

    def evaluate(m):
        s = next(scores)
        return {"score": s, "per_user": {"user": np.arange(3), "rank": np.array([0, 1, int(s * 10)])},
                "serving": {"users_per_s": 1.0}}

    model, x, y = _setup()
    st = _train(model, x, y, tmp_path, TrainConfig(max_steps=6, eval_every=2, patience=100), evaluate)
    assert st.best_step == 4 and st.best_per_user == {"user": [0, 1, 2], "rank": [0, 1, 5]}
    assert all("per_user" not in c and "serving" not in c for c in st.curve)   # the curve stays small
    model2, _, _ = _setup()
    st2 = _train(model2, x, y, tmp_path, TrainConfig(max_steps=10, eval_every=2, patience=100), evaluate)
    assert st2.resumed_from == [6] and st2.best_per_user == {"user": [0, 1, 2], "rank": [0, 1, 5]}
    assert isinstance(TrainState(**{**st2.__dict__}).best_per_user, dict)


# The SID-GR defaults before issue #14 changed them (preset, loss, augmentation, validation users), pinned.
OLD_SIDGR = ["model.preset=grid", "model.loss=vocab", "data.augment=prefix", "eval.valid_users=0"]


@pytest.mark.parametrize("overrides,run_id", [
    (OLD_SIDGR, "044a174bb09b2396"),
    (["paradigm=llmrs"], "edb47eeec617afb7"),
    ([*OLD_SIDGR, "model.preset=small", "train.autocast=bfloat16", "data.max_items=1000", "eval.test_users=500"],
     "33d599e7368244f4"),
    (["paradigm=llmrs", "llm.name=gemma3-270m", "llm.dtype=bfloat16"], "a6d2b338a5a70695"),
])
def test_existing_run_ids_are_unchanged(overrides, run_id):
    """Ids computed by the code before the device path (commit e6852ec), for a device without native bf16 (precision
    `auto` is fp32 there; the records were made on one): existing run directories stay valid, whatever train.device
    says and whatever CPU runs this test. For a bf16-native device `auto` is bf16, another experiment, whose id is that
    of the same config with bf16 spelt out (resolved, never "auto", in the id)."""
    for device in ("auto", "cpu", "cuda"):
        o = [*overrides, f"train.device={device}"]
        assert config.config_hash(config.load(overrides=o, bf16=False)) == run_id
        native = config.load(overrides=o, bf16=True)
        spelt = [*o, f"train.autocast={native.train.autocast}", f"llm.dtype={native.llm.dtype}"]
        assert config.config_hash(native) == config.config_hash(config.load(overrides=spelt, bf16=False))
