"""The paradigms, each a registered bundle (as torchtitan's TrainSpec): the config sections it reads, the defaults
it sets over the dataclasses', its lazily imported builder (config -> scaling.skeleton.Bundle, which the one run
skeleton trains and decodes), how a run of it is labelled, its size axes, and its training-FLOPs estimate before a
run. Imports nothing heavy: config, sweeps and analysis read it without torch. The third, the ID-based baseline
(SASRec), is one more entry here and a builder module (scaling.idrec).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from importlib import import_module
from typing import Callable, Mapping

from scaling.errors import ConfigError


@dataclass(frozen=True)
class Axis:
    column: str       # the size column of a results table (params.json)
    defines: str      # prefix of the config keys that set the size; every other key must be equal along a curve


@dataclass(frozen=True)
class Paradigm:
    name: str
    title: str
    sections: tuple[str, ...]                 # config sections it reads: exactly these are hashed into a run id
    builder: str                              # "module:function", (cfg, cache, data_dir, log, device, progress) -> Bundle
    label: Callable[[Mapping], str]           # a flat config row -> what distinguishes the run in a table
    axes: dict[str, Axis] = field(default_factory=dict)
    defaults: dict = field(default_factory=dict)   # over the dataclass defaults, applied when a config loads
    estimate: str | None = None               # "module:function", (cfg, data_dir) -> training FLOPs, None when unknown
    reads_also: Callable[[Mapping], tuple[str, ...]] | None = None   # a config dict -> more sections its run reads
    #                                          (and its id hashes): LLM-as-RS with llm.item_repr=sid reads SID-GR's

    def more_sections(self, d: Mapping) -> tuple[str, ...]:
        return tuple(self.reads_also(d)) if self.reads_also else ()

    def build(self, *args, **kwargs):
        return _load(self.builder)(*args, **kwargs)

    def train_flops(self, cfg, data_dir: str | None = None) -> float | None:
        return _load(self.estimate)(cfg, data_dir) if self.estimate else None


def _load(ref: str):
    module, name = ref.split(":")
    return getattr(import_module(module), name)


def _sidgr_label(r: Mapping) -> str:
    return f"{r['model.preset']} {r['encoder.name']} {r['tokenizer.kind']} {r['tokenizer.levels']}x{r['tokenizer.width']}"


def _sasrec_label(r: Mapping) -> str:
    return f"SASRec {r['sasrec.preset']}"


def _llmrs_label(r: Mapping) -> str:
    sid = r.get("llm.item_repr") == "sid"
    items = f" SIDs {r['encoder.name']} {r['tokenizer.levels']}x{r['tokenizer.width']}" if sid else ""
    cap = r.get("train.max_steps")   # a capped run and its trained-out twin differ only here
    steps = f" <={int(cap)} steps" if cap is not None and str(cap) not in ("", "nan") and int(cap) > 0 else ""
    return f"{r['llm.name']} {r['llm.finetune']} r={r['llm.lora_r']} probe={r['llm.probe']}{items}{steps}"


def _llmrs_reads(d: Mapping) -> tuple[str, ...]:
    return ("encoder", "tokenizer") if d.get("llm", {}).get("item_repr") == "sid" else ()


PARADIGMS: dict[str, Paradigm] = {p.name: p for p in (
    Paradigm("sidgr", "SID-GR", ("paradigm", "seed", "data", "encoder", "tokenizer", "model", "train", "eval"),
             "scaling.sidgr.pipeline:build_sidgr", _sidgr_label,
             axes={"recommender": Axis("n_rs_non_embedding", "model."), "encoder": Axis("n_llm", "encoder."),
                   "tokenizer": Axis("n_qt", "tokenizer.")},
             # issue #14, measured on full Beauty: GRID's every-sub-sequence augmentation, validation on a fixed
             # 2,000-user sample; issue #30: precision fits the machine
             defaults={"data": {"augment": "all"}, "eval": {"valid_users": 2000}, "train": {"autocast": "auto"}},
             estimate="scaling.sidgr.estimate:train_flops_estimate"),
    Paradigm("llmrs", "LLM-as-RS", ("paradigm", "seed", "data", "llm", "train", "eval"),
             "scaling.llmrs.pipeline:build_llmrs", _llmrs_label,
             axes={"llm": Axis("n_llm", "llm.name"), "lora": Axis("n_trainable", "llm.lora_")},
             defaults={"train": {"autocast": "auto"}, "llm": {"dtype": "auto"}},
             estimate="scaling.llmrs.estimate:train_flops_estimate", reads_also=_llmrs_reads),
    Paradigm("sasrec", "ID-based (SASRec)", ("paradigm", "seed", "data", "sasrec", "train", "eval"),
             "scaling.idrec.pipeline:build_sasrec", _sasrec_label,
             axes={"id_recommender": Axis("n_id_non_embedding", "sasrec.")},
             # the same 2,000-user validation sample as SID-GR; SASRec's usual recipe (lr 1e-3, dropout 0.2)
             defaults={"eval": {"valid_users": 2000}, "train": {"autocast": "auto", "lr": 1e-3}},
             estimate="scaling.idrec.estimate:train_flops_estimate"),
)}


def get(name: str) -> Paradigm:
    if name not in PARADIGMS:
        raise ConfigError(f"paradigm {name!r} is unknown; choose one of {', '.join(PARADIGMS)}")
    return PARADIGMS[name]


def label(row: Mapping) -> str:
    """What distinguishes a run in a results table (a row of `analysis.load_runs`)."""
    return get(row.get("paradigm") or "sidgr").label(row)


def axes() -> dict[str, tuple[str, Axis]]:
    """axis name -> (paradigm, Axis), over every paradigm."""
    return {a: (p.name, ax) for p in PARADIGMS.values() for a, ax in p.axes.items()}
