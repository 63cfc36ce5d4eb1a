"""Which runs would identify what a joint law leaves unidentified (issue #26): for the SID-GR law and the LLM-as-RS
law fitted on a study, every run that can be built from the study's own settings — each combination of one run's
recommender (LoRA rank), another's encoder (LLM) and another's tokenizer that the study lacks, and one rung past
the largest and below the smallest of each axis — ranked by how much it would shrink the unidentified parameters'
uncertainty.

The ranking is the linearised information of the law at the current fit (optimal-design reasoning): a run at
sizes x adds the row J(x)/sigma to the fit's Jacobian, and a parameter's variance is the diagonal of the inverse
information. It is cheap (no refits), so every candidate is scored, and it answers "which run adds information
about this parameter", not "will the interval stop at a bound": the fit is linearised where it stands, and a
parameter the law cannot see at all (a term that vanished) stays unseen by every candidate. What a run then really
gives is measured only by refitting with it.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.joint import JOINT, JointFit

# law -> per size column, the config keys that set it (a candidate takes them from the run that has that size)
AXIS_KEYS = {"sidgr": (("model.preset", "model.arch"), ("encoder.name",), ("tokenizer.kind", "tokenizer.levels",
                                                                         "tokenizer.width")),
             "llmrs": (("llm.lora_r", "llm.lora_alpha"), ("llm.name",))}
STEP = 4.0   # a rung past the study's range: this factor beyond its largest (smallest) size on that axis


@dataclass
class JointSuggestion:
    sizes: tuple[float, ...]          # the candidate's size columns (the law's inputs)
    overrides: dict[str, str]         # config keys over its base run (empty for a rung past the study's range)
    base: str                         # the run id it starts from (gr-scaling run --from)
    gain: dict[str, float]            # per unidentified parameter: sd now / sd with the run (> 1 narrows it)
    what: str                         # in words
    rung: tuple[str, str] | None = None   # (size column, larger | smaller) for a rung past the study's range

    @property
    def score(self) -> float:
        return float(np.mean(np.log(list(self.gain.values())))) if self.gain else 0.0


def _sd(info: np.ndarray, idx: list[int]) -> np.ndarray:
    ridge = 1e-9 * max(float(np.trace(info)), 1e-300)   # an unseen direction: large, finite variance
    return np.sqrt(np.diag(np.linalg.inv(info + ridge * np.eye(len(info))))[idx])


def _level(r, keys) -> tuple:
    """A run's settings on one axis, as they would be written on a command line (8, not 8.0)."""
    def text(v):
        return str(int(v)) if isinstance(v, float) and v.is_integer() else str(v)
    return tuple((k, text(r[k])) for k in keys if k in r and pd.notna(r[k]))


def candidates(g: pd.DataFrame, law: str) -> list[tuple[tuple[float, ...], dict, str, str, tuple[str, str] | None]]:
    """(sizes, overrides, base run id, words, rung) for every combination of the study's axis settings it lacks
    (rung None), and one rung past each end of each axis from the run at that end (rung: (size column, larger |
    smaller); its overrides where config values can say it: `_rung_overrides`). A combination's size on each axis is
    that of the run with the setting (a SID-GR tokenizer's size is its own run's, though a codebook's width
    follows the encoder's); LoRA parameters grow with the LLM, so an LLM-as-RS combination's is its rank times that
    LLM's parameters per rank."""
    cols, keys = JOINT[law][1], AXIS_KEYS[law]
    levels = []   # per axis: {settings: its size}
    for c, ks in zip(cols, keys):
        lv = {}
        for _, r in g.sort_values(c).iterrows():
            lv.setdefault(_level(r, ks), float(r[c]))
        levels.append(lv)
    have = {tuple(_level(r, ks) for ks in keys) for _, r in g.iterrows()}
    per_rank = {}   # LLM-as-RS: each LLM's LoRA parameters per rank, from its first run with a rank
    if law == "llmrs":
        for _, x in g.iterrows():
            if pd.notna(x.get("llm.lora_r")):
                per_rank.setdefault(_level(x, keys[1]), float(x[cols[0]]) / float(x["llm.lora_r"]))
    base = g.loc[g[cols[0]].astype(float).idxmax(), "run_id"]
    out = []
    for combo in itertools.product(*[list(lv) for lv in levels]):
        if combo in have:
            continue
        sizes = [lv[c] for lv, c in zip(levels, combo)]
        if law == "llmrs":
            rank = float(dict(combo[0]).get("llm.lora_r", "nan"))
            if combo[1] not in per_rank or not np.isfinite(rank):
                continue
            sizes[0] = rank * per_rank[combo[1]]
        ov = {k: v for part in combo for k, v in part}
        out.append((tuple(sizes), ov, base, "a combination the study lacks: " +
                    " ".join(f"{k}={v}" for k, v in ov.items()), None))
    for j, c in enumerate(cols):   # one rung past each end of each axis, from the run at that end
        x = g[c].astype(float).to_numpy()
        for word, at in (("larger", x.argmax()), ("smaller", x.argmin())):
            r = g.iloc[at]
            sizes = [float(r[k]) for k in cols]
            sizes[j] = sizes[j] * STEP if word == "larger" else sizes[j] / STEP
            ov = _rung_overrides(law, c, word, r)
            if ov is None:   # no such rung (a LoRA rank below 1)
                continue
            for k, v in ov.items():   # a LoRA rank's (a codebook width's) parameters are in proportion to it
                if k in ("llm.lora_r", "tokenizer.width"):
                    sizes[j] = float(r[c]) * float(v) / float(r[k])
            out.append((tuple(sizes), ov, r["run_id"], f"a {word} {c} ({sizes[j]:.3g}, past the study's "
                                                       f"{'largest' if word == 'larger' else 'smallest'} {float(r[c]):.3g})",
                        (c, word)))
    return out


def _rung_overrides(law: str, col: str, word: str, r: pd.Series) -> dict[str, str] | None:
    """The config keys that take run `r` one rung past the study's range on axis `col`, where config values can say
    it: a LoRA rank (x or / STEP, at least 1, alpha kept in proportion) or an RK-Means codebook width; {} where the
    rung is another model (an LLM, an encoder, a recommender preset: the command line names it), None where there is
    no such rung."""
    if law == "llmrs" and col == JOINT["llmrs"][1][0] and pd.notna(r.get("llm.lora_r")):
        rank = int(float(r["llm.lora_r"]))
        new = rank * int(STEP) if word == "larger" else max(1, rank // int(STEP))
        if new == rank:
            return None
        out = {"llm.lora_r": str(new)}
        if pd.notna(r.get("llm.lora_alpha")):
            out["llm.lora_alpha"] = f"{float(r['llm.lora_alpha']) * new / rank:g}"
        return out
    if law == "sidgr" and col == JOINT["sidgr"][1][2] and r.get("tokenizer.kind") == "rkmeans":   # L x W x d
        width = int(float(r["tokenizer.width"]))
        new = width * int(STEP) if word == "larger" else width // int(STEP)
        return {"tokenizer.width": str(new)} if new >= 2 else None
    return {}


def suggest_joint(jf: JointFit, g: pd.DataFrame, sigma: float, top: int = 5) -> list[JointSuggestion]:
    """The candidates ranked by the geometric mean of sd now / sd after over the fit's unidentified parameters."""
    law, f = jf.fit.law, jf.fit
    unid = [law.params.index(p) for p in jf.unidentified]
    if not unid:
        return []
    cols = JOINT[jf.law][1]
    scaled = [g[c].astype(float).to_numpy() / s for c, s in zip(cols, f.scales)]
    sig = np.full(len(g), sigma)
    j_now = law.jac(f.theta, *scaled) / sig[:, None]
    info = j_now.T @ j_now
    sd_now = _sd(info, unid)
    out = []
    for sizes, ov, base, what, rung in candidates(g, jf.law):
        row = law.jac(f.theta, *[np.array([s / sc]) for s, sc in zip(sizes, f.scales)]) / sigma
        sd = _sd(info + row.T @ row, unid)
        gain = {law.params[i]: float(a / b) for i, a, b in zip(unid, sd_now, sd)}
        out.append(JointSuggestion(sizes, ov, base, gain, what, rung))
    return sorted(out, key=lambda s: -s.score)[:top]
