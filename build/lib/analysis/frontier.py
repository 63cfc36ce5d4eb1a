"""Cost-quality frontiers: each paradigm's Pareto-optimal runs (no other run of it is at least as good for at
most the cost, and strictly better in one), quality against training compute and against serving cost, and
"the best run within a budget" read off them.

Costs, from the run record:
- `train_flops_total` (params.json): an estimate from the model's shape, comparable across machines;
- `timing.train_device_seconds` (timing.json): measured, on the device named in `timing.device`;
- `serving.decode_flops_per_user` (serving.json): forward FLOPs to recommend to one user;
- `serving.seconds_per_user` (= 1 / serving.users_per_s): measured, on `serving.device`.
Measured seconds from different kinds of device (cpu, cuda) are never put on one axis silently: a frontier
over a measured column is drawn per device kind, unless the caller converts with explicit factors
(`to_reference_seconds`), which the report then states.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.errors import AnalysisError
from analysis.load import without_probes

MEASURED = {"timing.train_device_seconds": "timing.device", "serving.seconds_per_user": "serving.device"}
COSTS = {"train_flops_total": "training compute (FLOPs)",
         "timing.train_device_seconds": "training device-seconds",
         "serving.decode_flops_per_user": "decode FLOPs per user",
         "serving.seconds_per_user": "decode seconds per user"}


def device_kind(device) -> str:
    """'cuda:3' -> 'cuda'; 'cpu' -> 'cpu'; missing -> 'unknown'."""
    if not isinstance(device, str) or not device:
        return "unknown"
    return device.split(":", 1)[0]


def pareto_mask(cost: np.ndarray, quality: np.ndarray) -> np.ndarray:
    """True where no other point has cost <= and quality >= with one of them strict (lower cost, higher
    quality is better). Points with a missing cost or quality are never on the frontier."""
    cost, quality = np.asarray(cost, float), np.asarray(quality, float)
    ok = np.isfinite(cost) & np.isfinite(quality)
    c, q = cost[:, None], quality[:, None]
    dominated = ((cost[None, :] <= c) & (quality[None, :] >= q)
                 & ((cost[None, :] < c) | (quality[None, :] > q)) & ok[None, :]).any(1)
    return ok & ~dominated


def with_costs(df: pd.DataFrame) -> pd.DataFrame:
    """The runs table with the derived cost columns (seconds per user) and device kinds."""
    out = df.copy()   # derived columns already there (e.g. converted by to_reference_seconds) are kept
    if "serving.users_per_s" in out and "serving.seconds_per_user" not in out:
        out["serving.seconds_per_user"] = 1.0 / pd.to_numeric(out["serving.users_per_s"], errors="coerce")
    for col, dev in MEASURED.items():
        if f"{col}.device_kind" not in out:
            out[f"{col}.device_kind"] = out[dev].map(device_kind) if dev in out else "unknown"
    return out


def to_reference_seconds(df: pd.DataFrame, column: str, factors: dict[str, float]) -> pd.DataFrame:
    """Convert a measured seconds column to one reference device by explicit per-kind factors
    (seconds there = seconds here x factor), e.g. {"cpu": 1.0, "cuda": 40.0} from a benchmark run on both.
    A device kind without a factor is an error, never a silent 1."""
    if column not in MEASURED:
        raise AnalysisError(f"{column}: not a measured seconds column ({', '.join(MEASURED)})")
    out = with_costs(df)
    kinds = out[f"{column}.device_kind"]
    missing = sorted(set(kinds) - set(factors))
    if missing:
        raise AnalysisError(f"{column}: no conversion factor for device kind(s) {', '.join(missing)}; give one per kind")
    out[column] = out[column] * kinds.map(factors)
    out[f"{column}.device_kind"] = "reference"
    return out


@dataclass
class Frontier:
    cost: str
    quality: str
    paradigm: str
    device_kind: str          # "any" for estimated (FLOPs) costs
    runs: pd.DataFrame        # the frontier's runs, cheapest first

    def best_within(self, budget: float) -> pd.Series | None:
        """The best run costing at most `budget`, or None when every run costs more."""
        ok = self.runs[self.runs[self.cost] <= budget]
        return None if ok.empty else ok.loc[ok[self.quality].idxmax()]


def frontiers(df: pd.DataFrame, cost: str, quality: str = "test/recall@10") -> list[Frontier]:
    """One frontier per paradigm (and, for a measured cost, per device kind)."""
    t = with_costs(df)
    if cost not in t or quality not in t:
        return []
    t = without_probes(t)
    split = f"{cost}.device_kind" if cost in MEASURED else None
    out = []
    for keys, g in t.groupby(["paradigm", split] if split else ["paradigm"]):
        keys = keys if isinstance(keys, tuple) else (keys,)
        g = g[np.isfinite(pd.to_numeric(g[cost], errors="coerce")) & np.isfinite(pd.to_numeric(g[quality], errors="coerce"))]
        if g.empty:
            continue
        m = pareto_mask(g[cost].to_numpy(float), g[quality].to_numpy(float))
        out.append(Frontier(cost, quality, keys[0], keys[1] if split else "any", g[m].sort_values(cost)))
    return out


def serving_ratio(df: pd.DataFrame) -> list[dict]:
    """LLM-as-RS over SID-GR serving cost, per device kind: the ratio of their median decode FLOPs per user
    and of their median measured seconds per user (each median over a paradigm's runs on that kind)."""
    t = with_costs(df)
    if "serving.seconds_per_user" not in t:
        return []
    rows = []
    for kind, g in t.groupby("serving.seconds_per_user.device_kind"):
        med = g.groupby("paradigm")[["serving.seconds_per_user", "serving.decode_flops_per_user"]].median()
        if {"sidgr", "llmrs"} <= set(med.index):
            threads = g.get("serving.threads", pd.Series(dtype=float)).dropna().unique().tolist()
            rows.append({"device_kind": kind, "threads": threads,
                         "seconds_ratio": med.loc["llmrs", "serving.seconds_per_user"] / med.loc["sidgr", "serving.seconds_per_user"],
                         "flops_ratio": med.loc["llmrs", "serving.decode_flops_per_user"] / med.loc["sidgr", "serving.decode_flops_per_user"],
                         "sidgr_users_per_s": 1 / med.loc["sidgr", "serving.seconds_per_user"],
                         "llmrs_users_per_s": 1 / med.loc["llmrs", "serving.seconds_per_user"]})
    return rows
