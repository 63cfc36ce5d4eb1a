"""The report's paragraph on what a study's runs can and cannot show (issue #26), from the runs themselves: how
small a difference their shared test users resolve, which ladders are too short for their law, what the LLM axis
confounds, and where the runs ran (serving seconds are that machine's)."""
from __future__ import annotations

import re

import numpy as np
import pandas as pd

from analysis.laws import LAWS
from analysis.load import without_probes
from analysis.outcomes import Z95

# the offline LLMs by family (a size axis across families confounds size with family)
FAMILIES = {"smollm2": "SmolLM2", "gemma3-270m": "Gemma 3"}


def family(name: str) -> str:
    """A model's family: the offline ones by name, a Hugging Face id as its name without its size
    (Qwen/Qwen3-0.6B and Qwen/Qwen3-14B are both Qwen3)."""
    if name in FAMILIES:
        return FAMILIES[name]
    return re.sub(r"[-_.]?\d+(\.\d+)?[BbMm]\b.*$", "", name.split("/")[-1])


def resolvable(p: float, n: int) -> float:
    """Half-width of a 95% paired interval on `n` users for two runs near rate `p` that disagree on users as
    independent draws would (2p(1-p) per user): the smallest difference those users resolve, roughly."""
    return float(Z95 * np.sqrt(max(2 * p * (1 - p), 1e-12) / max(n, 1)))


def limits_section(df: pd.DataFrame, metric: str) -> list[str]:
    if "/" not in metric or "popular/" in metric or "paradigm" not in df or metric not in df:
        return []
    which = metric.split("/")[0]
    runs = without_probes(df)
    lines = []
    n = runs.get(f"{which}/n_users")
    if n is not None and n.notna().any():
        users = int(n.median())
        p = float(runs[metric].astype(float).median())
        lines.append(f"- **Users.** Runs are scored on {users:,} {which} users (median); at {metric} ~{p:.3f} two runs "
                     f"differ distinguishably only by about ±{resolvable(p, users):.3f} or more (a paired interval's "
                     f"half-width; closer runs read 'not distinguishable', which is not 'equal').")
    counts = runs.groupby("paradigm").size().to_dict()
    k = {"sidgr": len(LAWS["sidgr"].params), "llmrs": len(LAWS["llmrs"].params)}
    short = [f"{par} has {counts.get(par, 0)} runs for its {k[par]}-parameter joint law"
             for par in k if counts.get(par, 0) <= k[par] and counts.get(par, 0) > 0]
    if short:
        lines.append(f"- **Joint laws.** {'; '.join(short)}: not fitted until it has more (`gr-scaling suggest`).")
    llm = runs[runs["paradigm"] == "llmrs"]
    if "llm.name" in llm and llm["llm.name"].nunique() > 1:
        fam = sorted({family(str(x)) for x in llm["llm.name"].dropna()})
        if len(fam) > 1:
            lines.append(f"- **LLM size.** The LLM-as-RS models are of {len(fam)} families ({', '.join(fam)}): along "
                         "the LLM axis size is confounded with family, so no LLM-size law here is the paper's (one "
                         "family, many sizes: `sweeps/grids/paper-llm.yaml` on a cluster).")
    if "serving.device" in runs:
        devs = sorted({str(d) for d in runs["serving.device"].dropna()})
        if devs and all(d.startswith("cpu") for d in devs):
            lines.append("- **Machine.** Every run ran on a CPU: training and decode seconds are this CPU's, and say "
                         "nothing of a GPU's ratios (the FLOP counts travel; seconds do not).")
    if not lines:
        return []
    return ["## What these runs can and cannot show", "", *lines, ""]
