"""Saturation as a number, extrapolation checks, and the SID-GR vs LLM-as-RS comparison."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from analysis.bootstrap import Bootstrap
from analysis.errors import AnalysisError
from analysis.fit import fit_arrays


def doubling_gain_size(r0: float, a_: float, alpha: float, frac: float) -> float:
    """Size (in fit units) past which one more doubling gains less than `frac * R0` under
    R0 - A*N^-a: the gain f(2N) - f(N) = A*N^-a*(1 - 2^-a) falls to frac*R0 at this N."""
    if r0 <= 0 or a_ <= 0:
        return 0.0
    return float((a_ * (1 - 2.0 ** -alpha) / (frac * r0)) ** (1 / alpha))


@dataclass
class Saturation:
    size: float                 # N* in parameters
    ci: tuple[float, float]
    frac: float
    max_observed: float
    unidentified: tuple = ()        # law parameters pinned at a bound (then N* means nothing)

    @property
    def within_range(self) -> bool:
        return self.size <= self.max_observed

    def describe(self) -> str:
        if self.unidentified:
            return (f"not identified: these runs do not determine {', '.join(self.unidentified)} (pinned at a bound, or "
                    "an interval that runs to one), so they do not determine a ceiling or where the curve saturates "
                    "(add sizes, seeds, evaluation users or longer training; `gr-scaling suggest` ranks them)")
        if not self.within_range:
            return (f"no saturation within the range (N* = {self.size:.3g} > largest size {self.max_observed:.3g}; "
                    f"95% CI {self.ci[0]:.3g}-{self.ci[1]:.3g})")
        return (f"saturates at N* = {self.size:.3g} (95% CI {self.ci[0]:.3g}-{self.ci[1]:.3g}): past it one more "
                f"doubling gains < {self.frac:.0%} of R0")


def unidentified(boot: Bootstrap, level: float = 0.95) -> list[str]:
    """Parameters the runs do not determine: pinned at a bound by the fit, or whose bootstrap interval runs to
    a bound of the law (a report prints 'not identified' for them instead of that interval). "Runs to" is within
    1e-4 of the bound's range (at least 1e-4), the tolerance of Fit.at_bounds: a coarser one called an amplitude
    B in [0.007, 0.012] (range 0-10) unidentified at its lower bound."""
    ci, law = boot.ci(level), boot.fit.law
    out = list(boot.fit.at_bounds)
    for p, lo, hi in zip(law.params, law.lower, law.upper):
        tol = 1e-4 * max(1.0, hi - lo)
        if p not in out and (ci[p][0] <= lo + tol or ci[p][1] >= hi - tol):
            out.append(p)
    return out


def saturation(boot: Bootstrap, max_observed: float, frac: float = 0.01, level: float = 0.95) -> Saturation:
    fit = boot.fit
    if fit.law.name != "power_floor":
        raise AnalysisError(f"saturation is defined here for the power_floor law, not '{fit.law.name}'")
    scale = fit.scales[0]
    n_star = doubling_gain_size(*fit.theta, frac) * scale
    ci = boot.derived_ci(lambda t: doubling_gain_size(*t, frac) * scale, level)
    return Saturation(n_star, ci, frac, float(max_observed), tuple(unidentified(boot, level)))


@dataclass
class Extrapolation:
    held_out_sizes: list[float]
    predicted: list[float]
    observed: list[float]

    @property
    def abs_error(self) -> float:
        return float(np.mean(np.abs(np.subtract(self.predicted, self.observed))))

    @property
    def rel_error(self) -> float:
        return float(np.mean(np.abs(np.subtract(self.predicted, self.observed)) / np.abs(self.observed)))


def extrapolation_check(law, n, y, hold_out: int = 1) -> Extrapolation:
    """Fit on all but the `hold_out` largest sizes, predict those."""
    n, y = np.asarray(n, float), np.asarray(y, float)
    sizes = np.unique(n)
    if len(sizes) <= hold_out + 1:
        raise AnalysisError(f"extrapolation check needs more than {hold_out + 1} distinct sizes; got {len(sizes)}")
    cut = sizes[-hold_out]
    train, test = n < cut, n >= cut
    f = fit_arrays(law, [n[train]], y[train])
    return Extrapolation(n[test].tolist(), f.predict(n[test]).tolist(), y[test].tolist())


@dataclass
class Comparison:
    sid_r0: float
    sid_r0_ci: tuple[float, float]
    llm_at_largest: float
    llm_largest_size: float
    rel_improvement: float
    rel_improvement_ci: tuple[float, float]
    overtake_size: float            # smallest LLM size whose predicted metric exceeds SID-GR's R0 (nan: never)
    overtake_ci: tuple[float, float]


def _overtake(r0_sid: float, theta, scale: float) -> float:
    r0, a_, alpha = theta
    if r0 <= r0_sid:
        return np.nan
    with np.errstate(over="ignore"):   # an exponent near 0 sends the crossing to infinity: inf, not a warning
        return float(scale * (a_ / (r0 - r0_sid)) ** (1 / alpha))


def compare(sid: Bootstrap, llm: Bootstrap, llm_largest: float, level: float = 0.95) -> Comparison:
    """SID-GR's ceiling (R0 of its power_floor fit) against the LLM-as-RS curve at its largest size."""
    for b, what in ((sid, "SID-GR"), (llm, "LLM-as-RS")):
        if b.fit.law.name != "power_floor":
            raise AnalysisError(f"compare needs power_floor fits; the {what} fit is '{b.fit.law.name}'")
    q = [50 * (1 - level), 50 * (1 + level)]
    m = min(len(sid.samples), len(llm.samples))
    r0s = sid.samples[:m, 0]
    llm_at = np.array([llm.fit.law(t, llm_largest / llm.fit.scales[0]) for t in llm.samples[:m]])
    rel = (llm_at - r0s) / r0s
    over = np.array([_overtake(a, t, llm.fit.scales[0]) for a, t in zip(r0s, llm.samples[:m])])
    sid_r0 = float(sid.fit.theta[0])
    at = float(llm.fit.predict(np.array([llm_largest]))[0])
    ov_finite = over[np.isfinite(over)]
    return Comparison(
        sid_r0=sid_r0, sid_r0_ci=tuple(np.percentile(sid.samples[:, 0], q)),
        llm_at_largest=at, llm_largest_size=float(llm_largest),
        rel_improvement=(at - sid_r0) / sid_r0, rel_improvement_ci=tuple(np.percentile(rel, q)),
        overtake_size=_overtake(sid_r0, llm.fit.theta, llm.fit.scales[0]),
        overtake_ci=tuple(np.percentile(ov_finite, q)) if len(ov_finite) else (np.nan, np.nan))
