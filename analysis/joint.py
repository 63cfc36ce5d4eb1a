"""The 2025 study's joint laws fitted on a study's runs, and its collaborative-filtering test.

- SID-GR (its Table 1): `R0 - A/(N_RS + g1*N_LLM + g2*N_QT)^a - B/N_RS^b` over every SID-GR run at once (encoder,
  tokenizer and recommender ladders together); g1 and g2 are exchange rates: what one encoder (tokenizer) parameter
  is worth in recommender parameters.
- LLM-as-RS (its Table 7): `R0 - A/(N_LoRA + g*N_LLM)^a - B/(N_LoRA + beta*N_LLM)^b` over LLM size x LoRA size.
- The CF test (its Table 8): the held-out error of the LLM-as-RS law with beta fixed at 0 against beta free,
  leave-one-run-out; a lower error with beta free says the LLM's size also buys collaborative signal.

Every fit is weighted by each run's sampling error over its evaluation users. The SID-GR law's intervals come from the
hierarchical bootstrap (seeds within each design point, users within each run: analysis.bootstrap), the LLM-as-RS
law's from its profile likelihood (analysis.profile: on a 4 x 4 design the bootstrap under-covered, 56-83%, the
profile 0.9-1.0; analysis.calibration). A parameter whose interval runs to a bound is "not identified" by these runs,
and said so.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from analysis.bootstrap import Bootstrap, bootstrap
from analysis.fit import Fit, fit_arrays
from analysis.laws import LAWS
from analysis.outcomes import per_user, read_outcomes, user_noise, user_resampler
from analysis.profile import profile_intervals

# law -> (paradigm, the size column of each of its inputs in a results table)
JOINT = {"sidgr": ("sidgr", ("n_rs_non_embedding", "n_llm", "n_qt")),
         "llmrs": ("llmrs", ("n_trainable", "n_llm"))}


PROFILED = ("llmrs",)   # laws whose intervals are profile-likelihood ones (the bootstrap under-covered on them)


@dataclass
class JointFit:
    law: str
    fit: Fit
    boot: Bootstrap | None          # the hierarchical bootstrap (None for a PROFILED law)
    r2: float
    run_ids: list[str]
    unidentified: list[str] = field(default_factory=list)
    intervals: dict[str, tuple[float, float]] | None = None   # profile-likelihood intervals (a PROFILED law)
    sigma: np.ndarray | None = None   # each run's sampling error over its users (the fit's weights)

    @property
    def method(self) -> str:
        return "profile likelihood" if self.intervals is not None else "hierarchical bootstrap"

    def ci(self) -> dict[str, tuple[float, float]]:
        return self.intervals if self.intervals is not None else self.boot.ci()

    def table(self) -> pd.DataFrame:
        ci = self.ci()
        return pd.DataFrame([{"parameter": p, "value": v, "lo": ci[p][0], "hi": ci[p][1],
                              "identified": p not in self.unidentified} for p, v in self.fit.params.items()])

    def reading(self) -> str:
        """The exchange rates in words."""
        ci, p = self.ci(), self.fit.params

        def rate(name: str, what: str, unit: str) -> str:
            if name in self.unidentified:
                return f"{name} (what one {what} parameter is worth in {unit} parameters) is not identified by these runs"
            lo, hi = ci[name]
            if hi < 0.01:
                size = "almost nothing"
            elif lo < 1e-3 * hi:   # the interval reaches 0 but not "almost nothing": the point estimate says little
                size = f"anything from nothing to {hi:.3g} of them (these runs cannot tell it from 0)"
            else:
                size = f"{p[name]:.3g} of them"
            return f"one {what} parameter buys {size} ({name} = {p[name]:.3g} [{lo:.3g}, {hi:.3g}])"

        if self.law == "sidgr":
            return (f"SID-GR, {len(self.run_ids)} runs (R² {self.r2:.2f}): in recommender parameters, "
                    f"{rate('g1', 'encoder', 'recommender')}; {rate('g2', 'tokenizer', 'recommender')}.")
        return (f"LLM-as-RS, {len(self.run_ids)} runs (R² {self.r2:.2f}): in LoRA parameters, "
                f"{rate('g', 'frozen LLM', 'LoRA')} in the semantic term; {rate('beta', 'frozen LLM', 'LoRA')} in "
                "the collaborative term.")


def _runs(df: pd.DataFrame, law: str, metric: str) -> tuple[pd.DataFrame, list[np.ndarray]]:
    """The law's runs (its paradigm, probes and baselines left out, sizes known) and each one's per-user values."""
    paradigm, cols = JOINT[law]
    g = df[df.get("paradigm", pd.Series("sidgr", index=df.index)) == paradigm]
    if "llm.probe" in g:
        g = g[g["llm.probe"].fillna("none") == "none"]
    if "llm.item_repr" in g:   # the LLM-as-RS law is over titles (its Table 7): an LLM reading SIDs is another model
        g = g[g["llm.item_repr"].fillna("title") == "title"]
    missing = [c for c in cols if c not in g]
    if missing:
        raise ValueError(f"no size column {', '.join(missing)}")
    size = g[cols[0]].astype(float)
    g = g[np.isfinite(size) & (size > 0)]   # runs without their main size (a baseline row) have no place on the law
    which, name = metric.split("/", 1)
    values = [per_user(read_outcomes(p)[which]["rank"], name) for p in g["path"]]
    return g, values


def joint_fit(df: pd.DataFrame, law: str, metric: str = "test/recall@10", n_boot: int = 300,
              seed: int = 0) -> JointFit:
    """`law`: sidgr | llmrs. Raises ValueError with the reason when the runs cannot determine it."""
    g, values = _runs(df, law, metric)
    cols = JOINT[law][1]
    k = len(LAWS[law].params)
    if len(g) <= k:
        raise ValueError(f"{len(g)} {JOINT[law][0]} runs for a {k}-parameter law; it needs more than {k} (add sizes)")
    sizes = [g[c].astype(float).to_numpy() for c in cols]
    for c, x in zip(cols[1:], sizes[1:]):
        if np.ptp(x) == 0:
            raise ValueError(f"{c} does not vary across these runs: its exchange rate cannot be fitted")
    return fit_values(law, sizes, values, n_boot, seed, g["run_id"].tolist() if "run_id" in g else [])


def fit_values(law: str, sizes: list[np.ndarray], values: list[np.ndarray], n_boot: int = 300, seed: int = 0,
               run_ids: list[str] | None = None) -> JointFit:
    """The joint law on runs given as arrays (`values[i]`: run i's per-user metric values; what joint_fit reads from
    records, and what analysis.calibration draws)."""
    y, _, _, sigma = user_noise(values)
    f = fit_arrays(law, sizes, y, sigma=sigma)
    r2 = 1.0 - float(((f.predict(*sizes) - y) ** 2).sum()) / max(float(((y - y.mean()) ** 2).sum()), 1e-300)
    if law in PROFILED:
        ci = profile_intervals(f, sizes, y, sigma)
        return JointFit(law, f, None, r2, run_ids or [], _unidentified(f, ci), ci, sigma)
    b = bootstrap(f, sizes, y, n=n_boot, seed=seed, method="hierarchical", draw_y=user_resampler(values), sigma=sigma)
    return JointFit(law, f, b, r2, run_ids or [], _unidentified(f, b.ci()), sigma=sigma)


RATES = ("g1", "g2", "g", "beta")   # exchange rates: 0 is a finding (worth nothing), not a bound hit


def _unidentified(f: Fit, ci: dict[str, tuple[float, float]]) -> list[str]:
    """Pinned at a bound, or an interval that runs to one (within 1e-4 of the bound's range, Fit.at_bounds'
    tolerance: analysis.saturation.unidentified), except that an exchange rate whose interval reaches 0 is identified
    as near 0 (the paper's reading of g1, g2) as long as its upper end stays clear of the law's upper bound."""
    law, out = f.law, []
    for p, lo, hi in zip(law.params, law.lower, law.upper):
        tol = 1e-4 * max(1.0, hi - lo)
        a, b = ci[p]
        at = p in f.at_bounds or a <= lo + tol or b >= hi - tol or not np.isfinite(b)
        if at and (p not in RATES or b >= hi * (1 - 1e-3) or not np.isfinite(b)):
            out.append(p)
    return out


@dataclass
class CFTest:
    err_no_cf: float            # median squared held-out error over the runs left out, beta = 0
    err_cf: float               # the same, beta free
    diff_ci: tuple[float, float]   # 95% interval of err_no_cf - err_cf over evaluation users
    n_runs: int

    @property
    def evidence(self) -> bool:
        return self.diff_ci[0] > 0

    def describe(self) -> str:
        verdict = ("evidence that a larger LLM learns collaborative signal (beta > 0 predicts held-out runs better)"
                   if self.evidence else "no evidence that the LLM's size adds collaborative signal")
        return (f"held-out error (leave one run out, {self.n_runs} runs): beta = 0 {self.err_no_cf:.3g}, beta free "
                f"{self.err_cf:.3g}; difference {self.err_no_cf - self.err_cf:+.3g} [{self.diff_ci[0]:+.3g}, "
                f"{self.diff_ci[1]:+.3g}] over users: {verdict}")


def _loo_error(law: str, sizes: list[np.ndarray], y: np.ndarray, sigma: np.ndarray, start) -> float:
    """Median over runs of the squared error of each run's metric predicted by the law fitted without it."""
    errs = []
    for i in range(len(y)):
        keep = np.arange(len(y)) != i
        try:
            f = fit_arrays(law, [s[keep] for s in sizes], y[keep], sigma=sigma[keep], check=False, starts=[start])
        except Exception:   # noqa: BLE001 - a fold that cannot be fitted counts as missing
            continue
        errs.append(float((f.predict(*[s[i:i + 1] for s in sizes])[0] - y[i]) ** 2))
    return float(np.median(errs)) if errs else np.nan   # the median fold: one wild extrapolation does not decide


CF_MIN_RUNS = len(LAWS["llmrs"].params) + 2   # leave one out and still fit the law with a run to spare


def cf_runs(df: pd.DataFrame, metric: str = "test/recall@10") -> int:
    """How many of a study's runs the CF test reads (LLM-as-RS over titles, no probes, sizes known)."""
    return len(_runs(df, "llmrs", metric)[0])


def cf_test(df: pd.DataFrame, metric: str = "test/recall@10", n_boot: int = 100, seed: int = 0) -> CFTest:
    """The CF test on a study's LLM-as-RS runs; the interval redraws every run's evaluation users."""
    g, values = _runs(df, "llmrs", metric)
    if len(g) < CF_MIN_RUNS:
        raise ValueError(f"{len(g)} LLM-as-RS runs; leaving one out of a {len(LAWS['llmrs'].params)}-parameter law "
                         f"needs at least {CF_MIN_RUNS}")
    return cf_values([g[c].astype(float).to_numpy() for c in JOINT["llmrs"][1]], values, n_boot, seed)


def cf_values(sizes: list[np.ndarray], values: list[np.ndarray], n_boot: int = 100, seed: int = 0) -> CFTest:
    """The CF test on runs given as arrays (sizes: N_LoRA, N_LLM; `values[i]`: run i's per-user metric values)."""
    y, _, _, sigma = user_noise(values)
    full = {law: fit_arrays(law, sizes, y, sigma=sigma).theta for law in ("llmrs_no_cf", "llmrs")}
    # each fold starts from the full fit (the multi-start grid once per law, not once per fold)
    e0, e1 = (_loo_error(law, sizes, y, sigma, full[law]) for law in ("llmrs_no_cf", "llmrs"))
    draw, rng, diffs = user_resampler(values), np.random.default_rng(seed), []
    for _ in range(n_boot):
        yb = draw(rng)
        diffs.append(_loo_error("llmrs_no_cf", sizes, yb, sigma, full["llmrs_no_cf"])
                     - _loo_error("llmrs", sizes, yb, sigma, full["llmrs"]))
    d = np.array(diffs)[np.isfinite(diffs)]
    ci = tuple(float(q) for q in np.quantile(d, [0.025, 0.975])) if len(d) else (np.nan, np.nan)
    return CFTest(e0, e1, ci, len(y))


def joint_section(df: pd.DataFrame, metric: str, n_boot: int = 300) -> list[str]:
    """The report's section: each joint law fitted on the study's runs (or why not), read in words, and the CF test."""
    if "path" not in df or "/" not in metric or "popular/" in metric:
        return []
    lines = ["## Joint laws (the 2025 study's Tables 1 and 7)", "",
             "Each paradigm's law over all its runs at once (weighted by each run's sampling error over users; 95% "
             "intervals: SID-GR's from the hierarchical bootstrap, LLM-as-RS's from the profile likelihood, on which "
             "the bootstrap under-covers; `gr-scaling fit RUNS --law sidgr|llmrs|cf`).", ""]
    for law in ("sidgr", "llmrs"):
        try:
            jf = joint_fit(df, law, metric, n_boot)
        except Exception as e:   # noqa: BLE001 - a law these runs cannot determine is said, not fatal
            lines.append(f"- {LAWS[law].formula}: not fitted ({str(e).splitlines()[0]})")
            continue
        ci = jf.ci()
        params = ", ".join(f"{p}={v:.3g} " + ("(not identified)" if p in jf.unidentified else
                                               f"[{ci[p][0]:.3g}, {ci[p][1]:.3g}]") for p, v in jf.fit.params.items())
        lines += [f"- {LAWS[law].formula}: {params}; R² {jf.r2:.2f}.", f"  {jf.reading()}"]
    try:
        lines.append(f"- The CF test: {cf_test(df, metric, n_boot=max(10, n_boot // 30)).describe()}.")
    except Exception as e:   # noqa: BLE001
        lines.append(f"- The CF test: not run ({str(e).splitlines()[0]})")
    return lines + [""]
