"""Typed run configuration: nested dataclasses, validated on load, from YAML or `key=value` pairs.

A run is a pure function of its `RunConfig`; `config_hash` names its directory. Paths (where data,
caches and runs live) are not part of the config, so moving a results tree keeps run ids stable.
"""
from __future__ import annotations

import dataclasses
import functools
import difflib
import hashlib
import json
import typing
from typing import Literal
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from scaling import precision
from scaling.errors import ConfigError
from scaling.paradigms import PARADIGMS


@dataclass(frozen=True)
class DataConfig:
    dataset: str = "beauty"        # beauty | toys | sports | simple:<dir> | mcauley:<dir>:<Category>
    max_users: int = 0             # 0 = all users; N = a seeded random subset of N users
    max_items: int = 0             # 0 = all items; N = only the N most popular (a dense core; users left
                                   # with fewer than min_sequence of them are dropped), before max_users
    max_history: int = 20          # items kept of each history (most recent)
    sliding_window: bool = True    # every prefix of a training sequence is an example
    augment: Literal["prefix", "all"] = "prefix"   # prefix (every end, from the sequence's start) | all (GRID: every contiguous
                                   # sub-sequence, every start and end, within max_history); needs sliding_window.
                                   # SID-GR's default is all (PARADIGM_DEFAULTS)
    min_sequence: int = 3          # users with fewer items cannot be split leave-one-out
    subset_seed: int = 0           # which users a max_users subset keeps (fixed across model seeds)


@dataclass(frozen=True)
class EncoderConfig:
    name: str = "minilm"           # offline alias (see scaling.offline_models) or any Hugging Face id
    pooling: Literal["mean", "cls"] = "mean"
    max_length: int = 128          # tokens of item text the encoder reads
    batch_size: int = 64           # items embedded at once (8x on a GPU)


@dataclass(frozen=True)
class TokenizerConfig:
    kind: Literal["rkmeans", "rvq", "rqvae"] = "rkmeans"
    levels: int = 3                # L
    width: int = 256               # W
    dedup: Literal["digit", "random", "none"] = "digit"   # digit (TIGER's extra digit) | random | none
    epochs: int = 100              # rvq / rqvae training epochs
    latent_dim: int = 32           # rqvae latent size
    normalize: bool = False        # rkmeans: unit-length residuals at each level before clustering (GRID)


@dataclass(frozen=True)
class ModelConfig:
    arch: Literal["encdec", "decoder"] = "encdec"   # encdec (TIGER, T5) | decoder (Llama-style)
    preset: str = "small"          # see scaling.sidgr.presets (issue #14: the measured default; GRID's shape is grid)
    n_user_buckets: int = 0        # hashed user tokens (GRID: 0 is best)
    dropout: float = 0.1
    loss: Literal["vocab", "level"] = "level"   # level: softmax over the target digit's W values only (GRID's per-hierarchy
                                   # heads; the beam search scores each digit that way) | vocab: over every token


@dataclass(frozen=True)
class LLMConfig:
    """LLM-as-RS (paradigm=llmrs). The training and decoding knobs are train.* and eval.*, shared with SID-GR;
    LLM fine-tuning wants its own values there (e.g. train.lr=2e-4 train.batch_size=8 eval.beam_size=10)."""
    name: str = "smollm2"          # offline alias (see scaling.offline_models) or any Hugging Face causal-LM id
    finetune: Literal["lora", "full"] = "lora"
    lora_r: int = 8
    lora_alpha: int = 16
    lora_dropout: float = 0.05
    lora_targets: str = "q_proj,v_proj"   # comma-separated module names (peft target_modules)
    prompt: Literal["plain", "chat"] = "plain"   # (the model's chat template)
    max_prompt_tokens: int = 256   # history budget in tokens; the oldest items are dropped to fit
    max_title_tokens: int = 24     # titles are cut to this many tokens (prompt, target and decoding alike)
    probe: Literal["none", "id_only", "shuffled", "popular"] = "none"   # (CF probes; see scaling.llmrs.probes)
    dtype: Literal["float32", "bfloat16", "auto"] = "float32"   # (weights and compute; auto, the loaded default: bf16 for
                                   # LoRA where the device computes it natively, else fp32; see scaling.precision)
    gradient_checkpointing: bool = False   # recompute activations in the backward (memory for time; not in the
                                   # run id: the same gradients)
    init: Literal["pretrained", "random"] = "pretrained"   # the model's shape with random weights (path and speed
                                   # checks where weights cannot travel, e.g. bench/device_check.sh; not a result)
    item_repr: Literal["title", "sid"] = "title"   # how the LLM reads and writes items: titles, or semantic IDs
                                   # (encoder.* and tokenizer.* build them as for SID-GR; one new token per digit
                                   # value, its embedding rows trained; decoding constrained to the SID trie)


@dataclass(frozen=True)
class SASRecConfig:
    """The ID-based baseline (paradigm=sasrec): SASRec over item-ID embeddings, full softmax over items."""
    preset: Literal["t3-98k", "t3-786k", "t3-1.6m", "t3-6.3m", "t3-25m", "t3-75m"] = "t3-786k"   # the 2025 study's
                                   # six sizes (its Table 3), by non-embedding parameters (scaling.idrec.model)
    dropout: float = 0.2


@dataclass(frozen=True)
class TrainConfig:
    lr: float = 5e-4
    weight_decay: float = 1e-6
    batch_size: int = 256          # the global batch: examples per optimizer step, whatever the number of ranks
    micro_batch_size: int = 0      # examples per rank per forward (0 = batch_size / ranks); smaller ones accumulate
                                   # gradients (batch_size / (ranks x micro) steps); not in the run id
    max_epochs: int = 200
    max_steps: int = 0             # 0 = no step limit
    warmup_steps: int = 100
    schedule: Literal["constant", "linear", "cosine"] = "constant"   # after warmup, to lr_floor x lr at the last step
                                   # (max_steps, else max_epochs of steps)
    lr_floor: float = 0.0          # linear / cosine: the final learning rate as a fraction of lr
    clip_norm: float = 0.0         # gradient clipping to this global norm (0 = off); the gradient norm is logged
    eval_every: int = 500          # steps between validations
    log_every: int = 50            # steps between training-curve points (mean loss, lr, examples/s; curves.json and
                                   # TensorBoard); not in the run id
    patience: int = 5              # validations without improvement of select_metric before stopping
    select_metric: Literal["ndcg@10", "recall@10", "ndcg@5", "recall@5"] = "ndcg@10"   # validation metric that picks the kept checkpoint and early-stops (GRID: recall@10)
    backend: Literal["single", "ddp", "deepspeed"] = "single"   # (ranks from torchrun / SLURM environment)
    deepspeed_config: str = "slurm/deepspeed/zero2.json"   # ZeRO config (relative: to the repo root)
    bucket_by_length: bool = True  # batch examples of similar history length (less padding)
    autocast: Literal["none", "bfloat16", "auto"] = "none"   # mixed precision for the training forward (weights stay
                                   # fp32); auto (the loaded default) is bfloat16 only where bf16 is native
    device: Literal["auto", "cpu", "cuda"] = "auto"   # auto (cuda:<local rank> when CUDA is there, else cpu) | cpu | cuda; not in the run id
    compile: bool = False          # on/off: torch.compile the training step's model (inductor; CPU needs a C compiler):
                                   # the same model computed faster after a compile of a minute or so; not in the run id
    tracker: Literal["none", "mlflow"] = "none"   # an experiment tracker beside TensorBoard (scaling.trackers; pip
                                   # install mlflow-skinny); not in the run id
    tracker_uri: str = ""          # the tracker's URI ("" = file:<runs dir>/mlruns, MLflow's local store); not in the id
    tracker_group: str = ""        # the tracker's experiment: `sweep submit` sets the grid's name ("" = gr-scaling)


@dataclass(frozen=True)
class EvalConfig:
    beam_size: int = 20
    constrained: bool = True       # prefix-trie constrained beam search
    batch_size: int = 256
    valid_users: int = 0           # 0 = all; N = first N users of a fixed permutation (faster validation);
                                   # SID-GR's default is 2,000 (PARADIGM_DEFAULTS)
    test_users: int = 0            # 0 = all; N = the same for the final validation and test decode
    cold_max: int = 5              # cold-start metrics (<set>/cold/...): targets seen <= this many times in training


@dataclass(frozen=True)
class RunConfig:
    paradigm: Literal["sidgr", "llmrs", "sasrec"] = "sidgr"   # sidgr (semantic IDs + a small transformer) | llmrs (an LLM
                                   # generating titles) | sasrec (the ID-based baseline)
    seed: int = 0                  # model initialisation, batch order and dropout (not the user subset: data.subset_seed)
    data: DataConfig = field(default_factory=DataConfig)
    encoder: EncoderConfig = field(default_factory=EncoderConfig)
    tokenizer: TokenizerConfig = field(default_factory=TokenizerConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    llm: LLMConfig = field(default_factory=LLMConfig)
    sasrec: SASRecConfig = field(default_factory=SASRecConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)

    def to_dict(self) -> dict:
        return _as_dict(self)


def _as_dict(obj) -> dict:
    """dataclasses.asdict for configs: their values are scalars and strings, so no deep copy is needed (asdict's
    copy was most of a 4,000-run dry run's time; the dict is new, so a caller may change it)."""
    return {name: _as_dict(getattr(obj, name)) if section else getattr(obj, name)
            for name, section in _layout(type(obj))}


# A config class's resolved annotations, once per class: typing re-evaluates the string annotations of
# `from __future__ import annotations` at every call (221k compile() calls in a 4,000-run grid's load).
_hints = functools.cache(typing.get_type_hints)


@functools.cache
def _layout(cls) -> tuple[tuple[str, bool], ...]:
    """(field name, is a section) of a config class, in order."""
    hints = _hints(cls)
    return tuple((f.name, dataclasses.is_dataclass(hints[f.name])) for f in dataclasses.fields(cls))


def _choices(cls=None, prefix: str = "") -> dict[str, tuple]:
    """Allowed values of every key whose type is a Literal: the types are the one place they are written."""
    cls = cls or RunConfig
    out, hints = {}, _hints(cls)
    for f in dataclasses.fields(cls):
        t = hints[f.name]
        if dataclasses.is_dataclass(t):
            out.update(_choices(t, f"{prefix}{f.name}."))
        elif typing.get_origin(t) is typing.Literal:
            out[prefix + f.name] = typing.get_args(t)
    return out


CHOICES = _choices()
POSITIVE = {"data.max_history", "tokenizer.levels", "tokenizer.width", "encoder.max_length",
            "encoder.batch_size", "train.batch_size", "train.eval_every", "train.log_every", "eval.beam_size",
            "eval.batch_size", "train.max_epochs", "tokenizer.latent_dim", "llm.lora_r", "llm.lora_alpha",
            "llm.max_prompt_tokens", "llm.max_title_tokens"}


def _fields(cls) -> dict[str, dataclasses.Field]:
    return {f.name: f for f in dataclasses.fields(cls)}


def valid_keys(cls=RunConfig, prefix: str = "") -> list[str]:
    keys = []
    hints = _hints(cls)
    for name in _fields(cls):
        if dataclasses.is_dataclass(hints[name]):
            keys += valid_keys(hints[name], f"{prefix}{name}.")
        else:
            keys.append(prefix + name)
    return keys


def closest_hint(key: str, candidates, fallback: bool = False) -> str:
    """"; did you mean 'x'?" for the closest candidate (or the full list when `fallback`), else ""."""
    close = difflib.get_close_matches(key, list(candidates), n=1, cutoff=0.5)
    if close:
        return f"; did you mean '{close[0]}'?"
    return f"; valid keys: {', '.join(candidates)}" if fallback else ""


def read_yaml_mapping(path: str | Path, what: str) -> dict:
    """A YAML file holding a mapping, or a one-line ConfigError naming the file."""
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"{p}: {what} not found")
    try:
        values = yaml.safe_load(p.read_text()) or {}
    except yaml.YAMLError as e:
        raise ConfigError(f"{p}: not valid YAML ({str(e).splitlines()[0]})") from None
    if not isinstance(values, dict):
        raise ConfigError(f"{p}: expected a mapping of keys at the top level")
    return values


def _unknown(key: str, where: str) -> ConfigError:
    return ConfigError(f"{where}: unknown config key '{key}'{closest_hint(key, valid_keys(), fallback=True)}")


def _coerce(value, typ, key: str, where: str):
    """Turn a YAML/CLI value into the field's type, or raise a one-line ConfigError."""
    try:
        if typ is bool:
            if isinstance(value, bool):
                return value
            s = str(value).strip().lower()
            if s in ("1", "true", "yes", "on"):
                return True
            if s in ("0", "false", "no", "off"):
                return False
            raise ValueError
        if typ is int:
            if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
                raise ValueError
            return int(str(value)) if not isinstance(value, (int, float)) else int(value)
        if typ is float:
            return float(value)
        if typ is str or typing.get_origin(typ) is typing.Literal:   # a Literal's membership: validate()
            return str(value)
    except (TypeError, ValueError):
        pass
    raise ConfigError(f"{where}: key '{key}' expects {typ.__name__}, got {value!r}")


def _build(cls, values: dict, prefix: str, where: str):
    hints = _hints(cls)
    fields = _fields(cls)
    kwargs = {}
    for name, value in values.items():
        key = prefix + name
        if name not in fields:
            raise _unknown(key, where)
        typ = hints[name]
        if dataclasses.is_dataclass(typ):
            if not isinstance(value, dict):
                raise ConfigError(f"{where}: key '{key}' is a section; give it a mapping of keys")
            kwargs[name] = _build(typ, value, key + ".", where)
        else:
            kwargs[name] = _coerce(value, typ, key, where)
    return cls(**kwargs)


def validate(cfg: RunConfig, where: str = "config") -> RunConfig:
    flat = flatten(cfg.to_dict())
    for key, allowed in CHOICES.items():
        if flat[key] not in allowed:
            raise ConfigError(f"{where}: key '{key}' = {flat[key]!r}; choose one of {', '.join(allowed)}")
    for key in POSITIVE:
        if flat[key] <= 0:
            raise ConfigError(f"{where}: key '{key}' must be > 0, got {flat[key]!r}")
    if not 0 <= cfg.sasrec.dropout < 1:
        raise ConfigError(f"{where}: key 'sasrec.dropout' must be in [0, 1), got {cfg.sasrec.dropout!r}")
    if not 0 <= cfg.llm.lora_dropout < 1:
        raise ConfigError(f"{where}: key 'llm.lora_dropout' must be in [0, 1), got {cfg.llm.lora_dropout!r}")
    if cfg.llm.item_repr == "sid" and cfg.llm.probe in ("id_only", "shuffled"):
        raise ConfigError(f"{where}: llm.item_repr=sid with llm.probe={cfg.llm.probe}: the probes change what titles "
                          "say; with SIDs use llm.probe=none (or popular)")
    if not [t for t in cfg.llm.lora_targets.split(",") if t.strip()]:
        raise ConfigError(f"{where}: key 'llm.lora_targets' is empty; name modules, e.g. q_proj,v_proj")
    if cfg.eval.cold_max < 0:
        raise ConfigError(f"{where}: key 'eval.cold_max' must be >= 0, got {cfg.eval.cold_max}")
    if cfg.train.micro_batch_size < 0 or cfg.train.clip_norm < 0 or not 0 <= cfg.train.lr_floor <= 1:
        raise ConfigError(f"{where}: train.micro_batch_size and train.clip_norm must be >= 0 and train.lr_floor in "
                          "[0, 1]")
    if cfg.train.micro_batch_size > cfg.train.batch_size:
        raise ConfigError(f"{where}: key 'train.micro_batch_size' = {cfg.train.micro_batch_size} exceeds "
                          f"train.batch_size = {cfg.train.batch_size} (the global batch); give a divisor of it")
    if cfg.data.augment == "all" and not cfg.data.sliding_window:
        raise ConfigError(f"{where}: key 'data.augment' = 'all' (SID-GR's default) makes every sub-sequence an "
                          "example and needs data.sliding_window=true; with sliding_window=false set data.augment=prefix")
    if cfg.train.compile and cfg.train.backend == "deepspeed":
        raise ConfigError(f"{where}: key 'train.compile' = on is for backend single/ddp; with deepspeed set "
                          f"\"compile\" in {cfg.train.deepspeed_config} instead")
    if cfg.train.autocast != "none" and cfg.train.backend == "deepspeed":
        raise ConfigError(f"{where}: key 'train.autocast' is for backend single/ddp; with deepspeed set \"bf16\" "
                          f"in {cfg.train.deepspeed_config} instead")
    if min(cfg.data.max_users, cfg.data.max_items, cfg.train.max_steps, cfg.model.n_user_buckets, cfg.eval.valid_users,
           cfg.eval.test_users) < 0:
        raise ConfigError(f"{where}: data.max_users, data.max_items, train.max_steps, model.n_user_buckets, eval.valid_users and "
                          "eval.test_users must be >= 0")
    from scaling.sidgr.presets import PRESETS  # local import: presets are a table, not config logic
    if cfg.model.preset not in PRESETS[cfg.model.arch]:
        raise ConfigError(f"{where}: key 'model.preset' = {cfg.model.preset!r}; choose one of "
                          f"{', '.join(PRESETS[cfg.model.arch])}")
    return cfg


def flatten(d: dict, prefix: str = "") -> dict:
    out = {}
    for k, v in d.items():
        if isinstance(v, dict):
            out.update(flatten(v, f"{prefix}{k}."))
        else:
            out[prefix + k] = v
    return out


def nest(pairs: dict) -> dict:
    out: dict = {}
    for key, value in pairs.items():
        node = out
        parts = key.split(".")
        for p in parts[:-1]:
            node = node.setdefault(p, {})
            if not isinstance(node, dict):
                raise ConfigError(f"key '{key}': '{p}' is not a section")
        node[parts[-1]] = value
    return out


def deep_merge(base: dict, over: dict) -> dict:
    out = dict(base)
    for k, v in over.items():
        out[k] = deep_merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


# Defaults a paradigm sets over the dataclass defaults (the shared sections serve both paradigms): each paradigm's
# entry in scaling.paradigms says them (SID-GR: GRID's augmentation and a 2,000-user validation sample, issue #14;
# both: precision `auto`, issue #30). `load` and `from_dict` apply them; a bare `RunConfig()` does not.
PARADIGM_DEFAULTS = {name: p.defaults for name, p in PARADIGMS.items()}


def from_dict(values: dict, where: str = "config", bf16: bool | None = None, record: bool = False) -> RunConfig:
    """A validated RunConfig from a nested mapping; keys it leaves out take the paradigm's defaults — or, with
    `record` (a run record's config.json, `from_record`), the legacy values it ran with: a record that lacks a key
    was written before the key existed (HASHED_WHEN_SET), so reloading it gives the same run and id. Which of the
    two is never guessed from the mapping's shape: a user's complete YAML gets today's defaults.
    Precision `auto` is resolved here, for the device the run will compute on: `bf16` says whether that device
    computes bf16 natively (a sweep submitted for other nodes: the profile says); None checks this machine's
    `train.device` (scaling.precision.capability)."""
    if record:
        base = nest({k: v for k, v in HASHED_WHEN_SET.items() if k.split(".")[0] in PARADIGM_SECTIONS.get(
            values.get("paradigm"), ())})
    else:
        base = PARADIGM_DEFAULTS.get(values.get("paradigm", RunConfig.paradigm), {})
    cfg = _build(RunConfig, deep_merge(base, values), "", where)
    if precision.needs_resolving(cfg):
        cfg = precision.resolve(cfg, precision.capability(cfg.train.device).native if bf16 is None else bf16)
    return validate(cfg, where)


def from_record(run: str | Path, overrides: list[str] | None = None, bf16: bool | None = None) -> RunConfig:
    """The config a run record ran with (`run`: its directory or its config.json), `key=value` overrides on top
    (`gr-scaling run --from RUN key=value`)."""
    p = Path(run)
    p = p / "config.json" if p.is_dir() else p
    values = read_yaml_mapping(p, "run record's config.json (give a run directory)")
    if "paradigm" not in values:
        raise ConfigError(f"{p}: not a run record's config.json (no 'paradigm' key); give a run directory, or "
                          "use --config for a config file of your own")
    return from_dict(deep_merge(values, parse_overrides(overrides or [])), str(p), bf16, record=True)


def parse_overrides(args: list[str]) -> dict:
    pairs = {}
    for a in args:
        if "=" not in a:
            raise ConfigError(f"command line: '{a}' is not key=value (e.g. model.preset=grid)")
        k, v = a.split("=", 1)
        pairs[k.strip()] = yaml.safe_load(v) if v.strip() else ""
    return nest(pairs)


def load(path: str | Path | None = None, overrides: list[str] | None = None, bf16: bool | None = None) -> RunConfig:
    """Config from an optional YAML file, then `key=value` overrides on top."""
    values: dict = {}
    where = "command line"
    if path is not None:
        values = read_yaml_mapping(path, "config file")
        where = str(path)
    values = deep_merge(values, parse_overrides(overrides or []))
    return from_dict(values, where, bf16)


# Config sections each paradigm reads (scaling.paradigms); the hash covers only these, so adding a section for
# another paradigm does not rename existing runs.
PARADIGM_SECTIONS = {name: p.sections for name, p in PARADIGMS.items()}


# Keys added after run directories existed: hashed only when set off the value runs had before the key existed, so
# older run ids stay valid. These are those legacy values, not today's defaults (issue #14 made SID-GR's augment
# "all" and loss "level"; a run with the old recipe still hashes as it did).
HASHED_WHEN_SET = {"eval.test_users": 0, "data.max_items": 0, "train.autocast": "none", "llm.init": "pretrained",
                   "data.augment": "prefix", "tokenizer.normalize": False, "train.select_metric": "ndcg@10",
                   "model.loss": "vocab", "train.schedule": "constant", "train.lr_floor": 0.0,
                   "train.clip_norm": 0.0, "eval.cold_max": 5, "llm.item_repr": "title"}
# Keys that say where or how a run executes, not what it is: never hashed (the same run on a CPU or a GPU
# lands in the same directory and resumes there).
NEVER_HASHED = ("train.device", "train.log_every", "train.micro_batch_size", "llm.gradient_checkpointing", "train.compile",
                "train.tracker",
                "train.tracker_uri", "train.tracker_group")


def config_hash(cfg: RunConfig) -> str:
    """The run id's hash. Computed once per config object (configs are frozen; a sweep's bookkeeping asks for
    each run's id several times) and kept in the instance's __dict__, outside its fields (eq/hash ignore it)."""
    h = cfg.__dict__.get("_config_hash")
    if h is None:
        h = cfg.__dict__["_config_hash"] = _config_hash(cfg)
    return h


def _config_hash(cfg: RunConfig) -> str:
    if precision.needs_resolving(cfg):   # an id names what ran: bf16 or fp32, never "auto"
        raise ConfigError("precision 'auto' is not resolved; load the config with scaling.config.from_dict / load "
                          "(or scaling.precision.resolve) before computing its id")
    d = cfg.to_dict()
    d = {k: v for k, v in d.items() if k in PARADIGM_SECTIONS[cfg.paradigm] + PARADIGMS[cfg.paradigm].more_sections(d)}
    for key, default in HASHED_WHEN_SET.items():
        section, name = key.split(".")
        if d.get(section, {}).get(name) == default:
            del d[section][name]
    for key in NEVER_HASHED:
        section, name = key.split(".")
        d.get(section, {}).pop(name, None)
    blob = json.dumps(d, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()[:16]
