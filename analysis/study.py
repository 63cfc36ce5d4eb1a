"""From a runs table to answers: one scaling curve per axis that varies (recommender, encoder,
tokenizer size for SID-GR; LLM size for LLM-as-RS), each fitted with uncertainty, its saturation
point, an extrapolation check, and the comparison of the two paradigms."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.bootstrap import Bootstrap, bootstrap
from analysis.errors import AnalysisError
from analysis.fit import Fit, fit_arrays
from analysis.outcomes import fit_with_user_noise, per_user, read_outcomes
from analysis.saturation import (Comparison, Extrapolation, Saturation, compare, extrapolation_check, saturation,
                                 unidentified)
from scaling.paradigms import axes as paradigm_axes

# axis name -> (paradigm, size column, prefix of the config keys that define the size). Every other
# config key must be equal within a curve: e.g. LLM-as-RS probes, full vs LoRA, dtype split the llm axis.
# The axes are each paradigm's (scaling.paradigms).
AXES = {axis: (paradigm, ax.column, ax.defines) for axis, (paradigm, ax) in paradigm_axes().items()}

# Hyperparameters a ladder may tune per size (scaling.sidgr.presets.lr_rule, or a learning-rate sweep at some
# sizes): they do not split a curve. Where one size has runs at several values, that size's point is the value
# with the best mean validation score (the test metric's `valid/` counterpart); the others are set aside and said.
TUNED = ("train.lr",)


@dataclass
class Curve:
    axis: str
    paradigm: str
    x: str
    metric: str
    n: np.ndarray
    y: np.ndarray
    fit: Fit
    boot: Bootstrap
    power: Fit                                  # the non-saturating alternative
    sat: Saturation
    extrapolation: Extrapolation | None = None
    runs: list = field(default_factory=list)
    noise: str = "runs"                         # what the interval resamples: "users+seeds" or "runs"
    sigma: np.ndarray | None = None             # each point's sampling error over its evaluation users
    lo: np.ndarray | None = None                # each point's 95% interval over users
    hi: np.ndarray | None = None
    seed_sd: float | None = None                # pooled sd of the metric between seeds of one size
    choices: list = field(default_factory=list)  # per-size tuned values kept / set aside (see TUNED)
    others: list = field(default_factory=list)   # the axis's other ladders, not fitted: (what sets each apart, run ids)

    def unidentified(self, level: float = 0.95) -> list[str]:
        """Parameters the runs do not determine (see analysis.saturation.unidentified)."""
        return unidentified(self.boot, level)


def selection_metric(df: pd.DataFrame, metric: str = "test/recall@10") -> str:
    """The validation score that picks a size's tuned hyperparameters: the fitted metric's `valid/` counterpart
    when the runs have it, else valid/ndcg@10 (what training selects checkpoints by)."""
    name = metric.split("/", 1)[1] if metric.startswith("test/") else None
    return f"valid/{name}" if name and f"valid/{name}" in df else "valid/ndcg@10"


def _values(tuned: list[str], key) -> str:
    return ", ".join(f"{c}={v}" for c, v in zip(tuned, key if isinstance(key, tuple) else (key,)))


def pick_tuned(g: pd.DataFrame, axis: str, x: str, tuned: list[str], select: str) -> tuple[pd.DataFrame, list[str]]:
    """At each size with runs at several values of the tuned hyperparameters, keep the value with the best mean
    `select` (seeds of one value stay together); returns the kept runs and one line per size that had a choice."""
    if not tuned:
        return g, []
    keep, notes = [], []
    for size, at in g.groupby(x, sort=True):
        values = at.groupby([at[c].astype(str) for c in tuned], sort=True)
        if values.ngroups == 1:
            keep.append(at)
            continue
        if select not in at or at[select].isna().any():
            raise AnalysisError(f"axis '{axis}': size {float(size):.3g} has runs at several {', '.join(tuned)} "
                                f"and no '{select}' to choose between them; rerun with validation or drop all but one")
        scores = {k: float(v[select].astype(float).mean()) for k, v in values}
        best = max(scores, key=scores.get)
        keep.append(values.get_group(best))
        others = ", ".join(f"{_values(tuned, k)} ({v:.4f})" for k, v in scores.items() if k != best)
        notes.append(f"size {float(size):.3g}: kept {_values(tuned, best)} ({select} {scores[best]:.4f}) over {others}")
    kept = pd.concat(keep)
    for c in tuned:
        if kept[c].astype(str).nunique() > 1:
            by_size = kept.groupby(x, sort=True)[c].first()
            notes.insert(0, f"{c} differs between sizes: " + ", ".join(f"{float(n):.3g}: {v}" for n, v in by_size.items()))
    return kept, notes


def axis_runs(df: pd.DataFrame, axis: str, select: str | None = None) -> pd.DataFrame:
    """The largest set of finished runs of one paradigm in which only this axis (and the seed, and the per-size
    tuned hyperparameters of TUNED) varies; `attrs["choices"]` says which tuned values were kept where a size had
    several (by the best mean `select`, default: `selection_metric` of test/recall@10)."""
    ladders = axis_ladders(df, axis, select)
    if ladders:
        return ladders[0]
    sub = df.iloc[0:0].copy()
    sub.attrs["choices"] = []
    return sub


def axis_ladders(df: pd.DataFrame, axis: str, select: str | None = None) -> list[pd.DataFrame]:
    """Every set of finished runs of one paradigm with >= 3 sizes along this axis and everything else fixed (e.g.
    one LoRA-rank ladder per LLM), largest first (ties in table order): the first is the one an axis fits."""
    select = select or selection_metric(df)
    paradigm, x, section = AXES[axis]
    sub = df[df.get("paradigm", pd.Series(dtype=str)) == paradigm]
    if sub.empty or x not in sub:
        return []
    tuned = [c for c in TUNED if c in sub]
    # keys that never change what a run is (where it ran, how it was logged) do not split a ladder (a key an older
    # record lacks reads as the legacy value it ran, filled in by load_runs); any other missing key groups as a
    # value of its own
    from scaling.config import NEVER_HASHED

    cfg_cols = [c for c in sub.columns if "." in c and not c.startswith(("timing.", "serving.", section))
                and "/" not in c and c != "seed" and c not in tuned and c not in NEVER_HASHED]
    ladders = []
    keys = [sub[c].astype(object).astype(str) for c in cfg_cols] if cfg_cols else [np.zeros(len(sub))]
    for _, g in sub.groupby(keys, dropna=False):
        if g[x].nunique() < 3:
            continue
        g, notes = pick_tuned(g, axis, x, tuned, select)
        g = g.copy()
        g.attrs["choices"] = notes
        ladders.append(g)
    return sorted(ladders, key=len, reverse=True)   # stable: equal sizes keep their order


def ladder_keys(g: pd.DataFrame, ref: pd.DataFrame) -> str:
    """What sets ladder g apart from ladder ref: the config keys (not its axis, seed or tuned ones) on which
    they differ, as key=value of g."""
    cols = [c for c in g.columns if "." in c and "/" not in c and c != "seed" and c not in TUNED
            and not c.startswith(("timing.", "serving.")) and c in ref]
    diff = []
    for c in cols:
        own = set(g[c].astype(object).astype(str))
        if len(own) == 1 and set(ref[c].astype(object).astype(str)) != own:
            diff.append(f"{c}={own.pop()}")
    return ", ".join(diff) or "the same settings"


def fit_curve(df: pd.DataFrame, axis: str, metric: str = "test/recall@10", n_boot: int = 1000,
              frac: float = 0.01, seed: int = 0) -> Curve:
    paradigm, x, _ = AXES[axis]
    ladders = axis_ladders(df, axis, selection_metric(df, metric))
    if not ladders:
        raise AnalysisError(f"axis '{axis}': no set of {paradigm} runs with >= 3 distinct {x} values and "
                            "everything else fixed; add runs along this axis")
    runs = ladders[0]
    if metric not in runs:
        raise AnalysisError(f"metric '{metric}' is not in the runs table; columns with '@' are: "
                            f"{', '.join(c for c in df.columns if '@' in c)}")
    c = curve_from(axis, paradigm, x, metric, runs, n_boot, frac, seed)
    c.choices = list(runs.attrs.get("choices", []))
    c.others = [(ladder_keys(g, runs), g["run_id"].tolist()) for g in ladders[1:]]
    return c


def curve_from(axis: str, paradigm: str, x: str, metric: str, runs: pd.DataFrame, n_boot: int = 1000,
               frac: float = 0.01, seed: int = 0) -> Curve:
    """Fit, bootstrap, saturation and extrapolation check of one set of runs (x -> metric)."""
    n, y = runs[x].to_numpy(float), runs[metric].to_numpy(float)
    lo_col = f"{metric}.lo"
    have_users = ("path" in runs and "popular/" not in metric and lo_col in runs and runs[lo_col].notna().all()
                  and all((Path(p) / "outcomes.npz").is_file() for p in runs["path"]))
    lo = hi = None
    if have_users:
        # Per-user outcomes: a fit weighted by each point's sampling error, and an interval that resamples
        # seeds within each size and evaluation users within each run (both noise sources).
        which, name = metric.split("/", 1)
        values = [per_user(read_outcomes(p)[which]["rank"], name) for p in runs["path"]]
        f, b, sigma, lo, hi = fit_with_user_noise("power_floor", n, values, n_boot, seed)
        y = np.array([v.mean() for v in values])
    else:
        sigma = None
        f = fit_arrays("power_floor", [n], y)
        b = bootstrap(f, [n], y, n=n_boot, seed=seed)
    ex = extrapolation_check("power_floor", n, y) if np.unique(n).size >= 5 else None
    return Curve(axis, paradigm, x, metric, n, y, f, b, fit_arrays("power", [n], y, check=False),
                 saturation(b, n.max(), frac), ex, runs["run_id"].tolist(),
                 noise="users+seeds" if have_users else "runs", sigma=sigma, lo=lo, hi=hi, seed_sd=seed_spread(n, y))


def seed_spread(n: np.ndarray, y: np.ndarray) -> float | None:
    """Pooled standard deviation of the metric among runs of the same size (seeds); None with one run per size."""
    groups = [y[n == s] for s in np.unique(n)]
    dof = sum(len(g) - 1 for g in groups)
    if dof == 0:
        return None
    return float(np.sqrt(sum(((g - g.mean()) ** 2).sum() for g in groups) / dof))


def comparison_curves(by: dict) -> tuple[Curve | None, Curve | None]:
    """The curves the paradigm comparison uses: SID-GR's recommender (else encoder) curve, and LLM-as-RS's
    LLM-size curve, else its LoRA-rank curve (what a study with fewer than four LLM sizes can fit)."""
    return by.get("recommender") or by.get("encoder"), by.get("llm") or by.get("lora")


def table_curves(df: pd.DataFrame, n_boot: int = 1000) -> tuple[list[Curve], list[str]]:
    """A minimal results table (size, metric[, seed, group]): one curve per group with >= 3 sizes."""
    curves, notes = [], []
    for group, runs in df.groupby("group", sort=True):
        if runs["size"].nunique() < 3:
            notes.append(f"group '{group}': {runs['size'].nunique()} distinct sizes; a 3-parameter law needs >= 3")
            continue
        curves.append(curve_from(str(group), "table", "size", "metric", runs, n_boot))
    return curves, notes


def study(df: pd.DataFrame, metric: str = "test/recall@10", n_boot: int = 1000) -> tuple[list[Curve], Comparison | None, list[str]]:
    """Every axis with enough runs -> a Curve; skipped axes come back as one-line notes. A minimal results
    table (`analysis.load_results` of a size,metric CSV) gives one curve per group instead."""
    if df.attrs.get("kind") == "table":
        curves, notes = table_curves(df, n_boot)
        return curves, None, notes
    curves, notes = [], []
    for axis in AXES:
        try:
            curves.append(fit_curve(df, axis, metric, n_boot))
        except AnalysisError as e:
            msg = str(e)
            notes.append(msg if msg.startswith(f"axis '{axis}'") else f"axis '{axis}': {msg}")
    by = {c.axis: c for c in curves}
    comp = None
    sid, llm = comparison_curves(by)
    if sid is not None and llm is not None:
        comp = compare(sid.boot, llm.boot, llm.n.max())
    return curves, comp, notes
