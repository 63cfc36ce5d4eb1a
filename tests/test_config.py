import pytest

from scaling import config
from scaling.errors import ConfigError


def test_defaults_are_the_measured_sidgr_recipe():
    """Issue #14: TIGER with GRID's augmentation and per-level loss, the small preset, validation on 2,000 users."""
    cfg = config.load()
    assert (cfg.model.arch, cfg.model.preset, cfg.model.loss) == ("encdec", "small", "level")
    assert (cfg.tokenizer.kind, cfg.tokenizer.levels, cfg.tokenizer.width) == ("rkmeans", 3, 256)
    assert (cfg.train.lr, cfg.train.weight_decay, cfg.train.batch_size) == (5e-4, 1e-6, 256)
    assert (cfg.data.augment, cfg.eval.valid_users) == ("all", 2000)
    assert cfg.model.n_user_buckets == 0 and cfg.data.max_history == 20


def test_paradigm_defaults_leave_llmrs_on_the_dataclass_values():
    llm = config.load(overrides=["paradigm=llmrs", "data.sliding_window=false"])
    assert (llm.data.augment, llm.eval.valid_users) == ("prefix", 0)
    assert config.load(overrides=["eval.valid_users=0"]).eval.valid_users == 0   # a stated value wins


def test_a_record_written_before_a_key_existed_reloads_as_it_ran(tmp_path):
    """A run record's config.json lacking a later key ran with that key's legacy value, not today's default:
    reloading it (gr-scaling run --from RUN) must give the same run and id."""
    import json
    old = config.load(overrides=["data.augment=prefix", "model.loss=vocab", "eval.valid_users=0"])
    d = old.to_dict()
    del d["data"]["augment"], d["model"]["loss"], d["llm"]      # as written before those keys and LLM-as-RS
    p = tmp_path / "config.json"
    p.write_text(json.dumps(d))
    again = config.from_record(tmp_path)
    assert (again.data.augment, again.model.loss) == ("prefix", "vocab")
    assert config.config_hash(again) == config.config_hash(old) != config.config_hash(config.load())
    assert config.config_hash(config.from_record(p, ["seed=1"])) == config.config_hash(
        config.load(overrides=["data.augment=prefix", "model.loss=vocab", "eval.valid_users=0", "seed=1"]))
    with pytest.raises(ConfigError, match=r"partial.yaml: not a run record's config.json \(no 'paradigm' key\)"):
        (tmp_path / "partial.yaml").write_text("seed: 1\n")
        config.from_record(tmp_path / "partial.yaml")
    partial = tmp_path / "partial.yaml"                         # a user's file: the defaults fill it
    partial.write_text("model:\n  preset: tiny\n")
    assert config.load(partial).model.loss == "level"


def test_overrides_are_typed():
    cfg = config.load(overrides=["tokenizer.width=64", "data.sliding_window=false", "data.augment=prefix",
                                 "train.lr=1e-3"])
    assert cfg.tokenizer.width == 64 and cfg.data.sliding_window is False and cfg.train.lr == 1e-3
    with pytest.raises(ConfigError, match=r"'data.augment' = 'all' \(SID-GR's default\).*set data.augment=prefix"):
        config.load(overrides=["data.sliding_window=false"])


def test_unknown_key_names_closest():
    with pytest.raises(ConfigError, match=r"unknown config key 'tokenizer.widht'; did you mean 'tokenizer.width'"):
        config.load(overrides=["tokenizer.widht=3"])


def test_bad_type_and_choice():
    with pytest.raises(ConfigError, match=r"key 'train.batch_size' expects int, got 'big'"):
        config.load(overrides=["train.batch_size=big"])
    with pytest.raises(ConfigError, match=r"key 'tokenizer.kind' = 'pq'; choose one of rkmeans, rvq, rqvae"):
        config.load(overrides=["tokenizer.kind=pq"])
    with pytest.raises(ConfigError, match=r"model.preset"):
        config.load(overrides=["model.preset=huge"])
    with pytest.raises(ConfigError, match=r"'tokenizer.levels' must be > 0"):
        config.load(overrides=["tokenizer.levels=0"])


def test_yaml_file_and_errors(tmp_path):
    p = tmp_path / "c.yaml"
    p.write_text("model:\n  preset: small\ntokenizer:\n  width: 32\n")
    cfg = config.load(p, ["tokenizer.width=16"])
    assert cfg.model.preset == "small" and cfg.tokenizer.width == 16
    p.write_text("model:\n  presets: small\n")
    with pytest.raises(ConfigError, match=rf"{p}: unknown config key 'model.presets'"):
        config.load(p)
    with pytest.raises(ConfigError, match="config file not found"):
        config.load(tmp_path / "nope.yaml")


def test_hash_is_stable_and_sensitive():
    a, b = config.load(), config.load(overrides=["seed=0"])
    assert config.config_hash(a) == config.config_hash(b)
    assert config.config_hash(a) != config.config_hash(config.load(overrides=["seed=1"]))


def test_a_complete_config_file_of_a_user_gets_todays_defaults(tmp_path):
    """Issue #27: a YAML naming every section (one key each) once loaded as an old record, with the old recipe
    (augment=prefix, loss=vocab, valid_users=0). A file of the user's is never a record: the same keys from a file
    and from the command line give the same config."""
    keys = ["paradigm=sidgr", "seed=0", "data.max_history=20", "encoder.name=minilm", "tokenizer.levels=3",
            "model.preset=small", "train.lr=5e-4", "eval.beam_size=20"]
    p = tmp_path / "mine.yaml"
    p.write_text("paradigm: sidgr\nseed: 0\ndata: {max_history: 20}\nencoder: {name: minilm}\n"
                 "tokenizer: {levels: 3}\nmodel: {preset: small}\ntrain: {lr: 5.0e-4}\neval: {beam_size: 20}\n")
    from_file, from_cli = config.load(p), config.load(overrides=keys)
    assert (from_file.data.augment, from_file.model.loss, from_file.eval.valid_users) == ("all", "level", 2000)
    assert from_file == from_cli
