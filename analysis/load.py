"""Run directories -> one pandas DataFrame. Reads files only (never imports training code)."""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from analysis.errors import AnalysisError


def _flatten(d: dict, prefix: str = "") -> dict:
    out = {}
    for k, v in d.items():
        if isinstance(v, dict):
            out.update(_flatten(v, f"{prefix}{k}."))
        elif not isinstance(v, list):
            out[prefix + k] = v
    return out


def load_runs(path: str | Path, include_unfinished: bool = False) -> pd.DataFrame:
    """One row per run directory under `path` (searched recursively for `status` files): config keys
    (`model.preset`, ...), params (`n_rs`, `n_llm`, `n_qt`, ...), metrics (`test/recall@10`, ...),
    timing, plus `run_id`, `status` and `path`."""
    root = Path(path)
    if not root.is_dir():
        raise AnalysisError(f"{root}: results directory not found")
    rows = []
    for status_file in sorted(root.rglob("status")):
        d = status_file.parent
        status = status_file.read_text().split("\n", 1)[0].strip()
        if status != "done" and not include_unfinished:
            continue
        row = {"run_id": d.name, "status": status, "path": str(d)}
        for name, prefix in (("config", ""), ("params", ""), ("metrics", ""), ("timing", "timing.")):
            f = d / f"{name}.json"
            if f.is_file():
                row.update(_flatten(json.loads(f.read_text()), prefix))
        rows.append(row)
    return pd.DataFrame(rows)


def run_label(row) -> str:
    """What distinguishes a run in a results table, by paradigm (a row of `load_runs`)."""
    if row.get("paradigm") == "llmrs":
        return f"{row['llm.name']} {row['llm.finetune']} r={row['llm.lora_r']} probe={row['llm.probe']}"
    return (f"{row['model.preset']} {row['encoder.name']} {row['tokenizer.kind']} "
            f"{row['tokenizer.levels']}x{row['tokenizer.width']}")
