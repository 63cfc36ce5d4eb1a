"""LLM-as-RS with the real offline SmolLM2-135M on real Amazon Beauty: a short LoRA fine-tune and
title-constrained decoding through `run`, the CF probes in one results table, and bad input."""
import json

import numpy as np
import pytest

from analysis import load_runs
from conftest import SHARED_DATA
from scaling import config
from scaling.config import LLMConfig
from scaling.data import load_dataset
from scaling.errors import ConfigError, DataError, ModelNotFoundError
from scaling.llmrs.model import load_llm
from scaling.llmrs.probes import item_names
from scaling.llmrs.prompts import build_prompts
from scaling.record import read_status
from scaling.run import run

pytestmark = pytest.mark.integration

SHORT = {"paradigm": "llmrs", "data": {"max_users": 300, "sliding_window": False},
         "llm": {"dtype": "auto", "max_prompt_tokens": 128},
         "train": {"batch_size": 4, "lr": 3e-4, "warmup_steps": 2, "max_steps": 6, "eval_every": 3},
         "eval": {"valid_users": 8, "test_users": 24, "beam_size": 10, "batch_size": 12}}


@pytest.fixture(scope="module")
def runs(tmp_path_factory, shared_cache):
    out = tmp_path_factory.mktemp("llm-runs")
    dirs = {}
    for probe in ("none", "id_only", "popular"):
        cfg = config.from_dict(config.deep_merge(SHORT, {"llm": {"probe": probe}}))
        dirs[probe] = run(cfg, out, shared_cache, SHARED_DATA, progress=False)
    return out, dirs


def test_lora_finetune_and_constrained_decode_record(runs):
    _, dirs = runs
    d = dirs["none"]
    assert read_status(d) == "done"
    p = json.loads((d / "params.json").read_text())
    assert p["n_llm"] == 134_515_008 and p["n_lora"] == p["n_trainable"] == 460_800   # r=8 on q_proj, v_proj
    assert p["train_flops_per_example"] > 0
    m = json.loads((d / "metrics.json").read_text())
    assert m["steps"] == 6 and [c["step"] for c in m["curve"]] == [3, 6]
    for split in ("valid", "test"):
        assert m[f"{split}/invalid_rate"] == 0.0            # every recommendation is a real item
        assert 0.0 <= m[f"{split}/ndcg@10"] <= m[f"{split}/recall@10"] <= 1.0
    data = json.loads((d / "data.json").read_text())
    assert data["users"] == 300 and 0 < data["prompt_truncated_frac"]["test"] < 1   # 128 tokens cut some
    assert data["distinct_titles"] <= data["items"]
    ckpt = d / "ckpt" / "best.pt"
    assert ckpt.stat().st_size < 5e6                        # LoRA: adapters only, not the 135M base
    t = json.loads((d / "timing.json").read_text())
    print(f"\nSmolLM2 LoRA 6 steps: {t['train_tokens_per_s']:.0f} train tokens/s; test Recall@10 "
          f"{m['test/recall@10']:.3f} vs most-popular {m['test/popular/recall@10']:.3f}")


def test_probes_land_in_one_results_table(runs):
    out, _ = runs
    df = load_runs(out).set_index("llm.probe")
    assert set(df.index) == {"none", "id_only", "popular"}
    assert df["test/recall@10"].notna().all() and (df["paradigm"] == "llmrs").all()
    assert df.loc["popular", "n_llm"] == 0 and df.loc["id_only", "n_llm"] == 134_515_008
    assert df.loc["popular", "test/recall@10"] == pytest.approx(df.loc["none", "test/popular/recall@10"])


@pytest.fixture(scope="module")
def smollm2(shared_cache):
    return load_llm(LLMConfig(), shared_cache)


def test_prompt_budget_and_context_errors(smollm2):
    names = ["Rose Water Facial Toner, 8 oz", "Lip Balm"]
    with pytest.raises(ConfigError, match=r"llm.max_prompt_tokens=10 cannot hold the template and one item"):
        build_prompts(smollm2.tokenizer, names, LLMConfig(max_prompt_tokens=10), smollm2.context)
    with pytest.raises(ConfigError, match=r"exceeds model 'smollm2' context of 8192 tokens"):
        build_prompts(smollm2.tokenizer, names, LLMConfig(max_prompt_tokens=8192), smollm2.context)
    chat = build_prompts(smollm2.tokenizer, names, LLMConfig(prompt="chat"), smollm2.context)
    assert "<|im_start|>user" in smollm2.tokenizer.decode(chat.head)
    assert smollm2.tokenizer.decode(chat.names[0]) == " Rose Water Facial Toner, 8 oz"
    assert chat.target(1)[-1] == smollm2.tokenizer.eos_token_id


def test_unknown_lora_target_lists_the_modules(shared_cache):
    with pytest.raises(ConfigError, match=r"llm.lora_targets: query not in model 'smollm2'; its linear modules "
                                          r"are: down_proj, gate_proj, k_proj, o_proj, q_proj, up_proj, v_proj"):
        load_llm(LLMConfig(lora_targets="q_proj,query"), shared_cache)


def test_model_not_available_offline(shared_cache):
    with pytest.raises(ModelNotFoundError, match=r"model 'no-such-org/llm-9b' could not be loaded from the Hugging "
                                                 r"Face cache \(offline mode\).*offline alias.*local model directory"):
        load_llm(LLMConfig(name="no-such-org/llm-9b"), shared_cache)


def test_dataset_without_titles_is_refused():
    sports = load_dataset("sports", str(SHARED_DATA))
    with pytest.raises(DataError, match=r"no item has a title.*llm.probe=id_only"):
        item_names(sports, "none", 0)
    names, missing = item_names(sports, "id_only", 0)
    assert missing == 0 and len(set(names)) == sports.n_items


def test_llm_config_is_validated():
    with pytest.raises(ConfigError, match=r"key 'llm.finetune' = 'qlora'; choose one of lora, full"):
        config.load(overrides=["paradigm=llmrs", "llm.finetune=qlora"])
    with pytest.raises(ConfigError, match=r"unknown config key 'llm.lora_rank'; did you mean 'llm.lora_r'"):
        config.load(overrides=["llm.lora_rank=8"])
    sid = config.load(overrides=["llm.lora_r=64"])        # llm.* does not rename SID-GR runs
    assert config.config_hash(sid) == config.config_hash(config.load())
    assert np.all([k in config.valid_keys() for k in ("llm.probe", "llm.dtype", "eval.test_users")])


def test_lora_adapter_loads_with_peft_and_reproduces_the_record(runs, shared_cache):
    """The kept LoRA weights are a PEFT adapter directory: `PeftModel.from_pretrained` on the bare base model
    (what scaling.load_model does) recommends exactly the record's test ranks."""
    import scaling
    from analysis.outcomes import read_outcomes

    d = runs[1]["none"]
    adapter = d / "ckpt" / "best"
    assert (adapter / "adapter_config.json").is_file() and (adapter / "adapter_model.safetensors").is_file()
    loaded = scaling.load_model(d, shared_cache, SHARED_DATA)
    assert type(loaded.model).__name__.startswith("Peft")
    got, recorded = loaded.recommend("test"), read_outcomes(d)["test"]
    assert len(got["user"]) == 24
    np.testing.assert_array_equal(got["user"], recorded["user"])
    np.testing.assert_array_equal(got["rank"], recorded["rank"])


def test_sids_as_the_llm_items_train_decode_only_real_sids_and_reload(tmp_path, shared_cache):
    """llm.item_repr=sid on Beauty's dense core (issue #25, the 2025 study's Table 5 bridge): items are SID tokens
    added to SmolLM2's vocabulary, their rows trained beside LoRA; decoding writes only SIDs that exist (invalid rate
    0), and the saved adapter reproduces the record's ranks."""
    import scaling
    from analysis.outcomes import read_outcomes

    cfg = config.from_dict(config.deep_merge(SHORT, {
        "data": {"max_items": 1000, "min_sequence": 5, "max_users": 400},
        "encoder": {"name": "minilm", "max_length": 64}, "tokenizer": {"width": 32, "normalize": True},
        "llm": {"item_repr": "sid"}}))
    title_cfg = config.from_dict(config.deep_merge(SHORT, {"data": {"max_items": 1000, "min_sequence": 5,
                                                                    "max_users": 400}}))
    assert config.config_hash(cfg) != config.config_hash(title_cfg)
    # the SID's recipe is part of what the run is; for a title run encoder.* and tokenizer.* are not
    wider = config.from_dict(config.deep_merge(cfg.to_dict(), {"tokenizer": {"width": 64}}))
    assert config.config_hash(wider) != config.config_hash(cfg)
    title_wider = config.from_dict(config.deep_merge(title_cfg.to_dict(), {"tokenizer": {"width": 64}}))
    assert config.config_hash(title_wider) == config.config_hash(title_cfg)

    d = run(cfg, tmp_path, shared_cache, SHARED_DATA, progress=False)
    assert read_status(d) == "done"
    m = json.loads((d / "metrics.json").read_text())
    assert m["valid/invalid_rate"] == 0.0 and m["test/invalid_rate"] == 0.0
    data = json.loads((d / "data.json").read_text())
    p = json.loads((d / "params.json").read_text())
    assert data["item_repr"] == "sid" and data["sid_widths"][:3] == [32, 32, 32]
    assert data["distinct_titles"] == data["items"]           # dedup digit: one SID per item
    assert p["n_trainable"] == 460_800 + sum(data["sid_widths"]) * 576   # LoRA + one 576-wide row per SID token
    assert p["n_qt"] > 0 and p["n_encoder"] == 22_713_216
    out = read_outcomes(d)["test"]
    assert (out["rank"] >= 0).all() and len(out["user"]) == 24
    loaded = scaling.load_model(d, shared_cache, SHARED_DATA)
    np.testing.assert_array_equal(loaded.recommend("test")["rank"], out["rank"])
