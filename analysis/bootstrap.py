"""Bootstrap confidence intervals for a fitted law and anything derived from it.

`cases` (default) resamples runs — whole groups (e.g. all seeds of one size) when `groups` is given;
`residual` keeps the design and resamples the fit's residuals (rescaled by sqrt(n/(n-k))), better
when there are only a handful of sizes. Each resample starts from the full fit, so 1,000 resamples
cost about 1,000 single-start fits.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats import norm

from analysis.fit import Fit, fit_arrays


@dataclass
class Bootstrap:
    fit: Fit
    samples: np.ndarray            # (B, k) parameters per successful resample
    failed: int
    jackknife: np.ndarray | None = None   # (G, k) leave-one-group-out fits, for BCa intervals

    def interval(self, values: np.ndarray, estimate: float, jack: np.ndarray | None, level: float) -> tuple[float, float]:
        """BCa interval (bias-corrected and accelerated; Efron 1987) when jackknife values are there,
        else the percentile interval. BCa corrects the percentile interval's undercoverage for skewed,
        nonlinear estimates such as power-law exponents."""
        q = np.array([(1 - level) / 2, (1 + level) / 2])
        if jack is not None and len(values):
            z0 = norm.ppf(np.clip((values < estimate).mean() + 0.5 * (values == estimate).mean(), 1e-6, 1 - 1e-6))
            d = jack.mean() - jack
            den = 6 * (d ** 2).sum() ** 1.5
            acc = (d ** 3).sum() / den if den > 0 else 0.0
            z = norm.ppf(q)
            q = norm.cdf(z0 + (z0 + z) / (1 - acc * (z0 + z)))
        lo, hi = np.quantile(values, q) if len(values) else (np.nan, np.nan)
        return float(lo), float(hi)

    def ci(self, level: float = 0.95) -> dict[str, tuple[float, float]]:
        return {p: self.interval(self.samples[:, i], float(self.fit.theta[i]),
                                 None if self.jackknife is None else self.jackknife[:, i], level)
                for i, p in enumerate(self.fit.law.params)}

    def derived(self, fn) -> np.ndarray:
        """fn(theta) over every resample, e.g. a saturation size."""
        return np.array([fn(t) for t in self.samples])

    def derived_ci(self, fn, level: float = 0.95) -> tuple[float, float]:
        jack = None if self.jackknife is None else np.array([fn(t) for t in self.jackknife])
        return self.interval(self.derived(fn), float(fn(self.fit.theta)), jack, level)


def bootstrap(fit: Fit, sizes: list, y, n: int = 1000, method: str = "cases", groups=None,
              seed: int = 0, draw_y=None, sigma=None) -> Bootstrap:
    """`method`: `cases` (resample runs, or whole `groups`), `residual`, or `hierarchical`: the design (sizes)
    stays; at each size the runs (seeds) there are resampled, and each chosen run's metric is redrawn by
    `draw_y(rng)` (one value per run: the mean over a resample of that run's own evaluation users, see
    `analysis.outcomes.user_resampler`), so both noise sources — seeds and evaluation users — enter the
    interval. `sigma`: per-point standard errors for a weighted refit (as the fit was made)."""
    rng = np.random.default_rng(seed)
    if method == "hierarchical":
        return _hierarchical(fit, sizes, y, n, rng, draw_y, sigma)
    sizes = [np.asarray(s, float) for s in sizes]
    y = np.asarray(y, float)
    fitted = fit.predict(*sizes)
    k = len(fit.law.params)
    resid = (y - fitted) * np.sqrt(len(y) / max(len(y) - k, 1))
    ids = np.arange(len(y)) if groups is None else np.unique(groups, return_inverse=True)[1]
    members = [np.flatnonzero(ids == g) for g in range(ids.max() + 1)]
    out, failed = [], 0
    for _ in range(n):
        if method == "residual":
            idx, yb = np.arange(len(y)), fitted + rng.choice(resid, len(y))
        else:
            idx = np.concatenate([members[g] for g in rng.integers(0, len(members), len(members))])
            yb = y[idx]
        xb = [s[idx] for s in sizes]
        if len(np.unique(xb[0])) < 2 or np.ptp(yb) == 0:
            failed += 1
            continue
        try:
            r = fit_arrays(fit.law, xb, yb, starts=[fit.theta], scales=fit.scales, check=False)
        except Exception:   # noqa: BLE001 - a resample that cannot be fitted is counted, not fatal
            failed += 1
            continue
        out.append(r.theta)
    jack = None
    if method == "cases" and len(members) > k + 1:
        rows = []
        for g in range(len(members)):
            keep = np.concatenate([m for h, m in enumerate(members) if h != g])
            try:
                rows.append(fit_arrays(fit.law, [s[keep] for s in sizes], y[keep], starts=[fit.theta],
                                       scales=fit.scales, check=False).theta)
            except Exception:   # noqa: BLE001
                pass
        jack = np.array(rows) if len(rows) == len(members) else None
    return Bootstrap(fit, np.array(out).reshape(-1, k), failed, jack)


def _hierarchical(fit: Fit, sizes: list, y, n: int, rng: np.random.Generator, draw_y, sigma) -> Bootstrap:
    if draw_y is None:
        raise ValueError("hierarchical bootstrap needs draw_y (per-user outcomes of every run)")
    sizes = [np.asarray(s, float) for s in sizes]
    _, at = np.unique(np.stack(sizes, 1), axis=0, return_inverse=True)   # design points: every size column
    at = at.reshape(-1)
    members = [np.flatnonzero(at == g) for g in range(at.max() + 1)]
    sig = None if sigma is None else np.asarray(sigma, float)
    out, failed = [], 0
    for _ in range(n):
        idx = np.concatenate([m[rng.integers(0, len(m), len(m))] for m in members])   # seeds within each size
        yb = draw_y(rng)[idx]                                                          # users within each run
        if np.ptp(yb) == 0:
            failed += 1
            continue
        try:
            r = fit_arrays(fit.law, [s[idx] for s in sizes], yb, starts=[fit.theta], scales=fit.scales, check=False,
                           sigma=None if sig is None else sig[idx])
        except Exception:   # noqa: BLE001 - a resample that cannot be fitted is counted, not fatal
            failed += 1
            continue
        out.append(r.theta)
    return Bootstrap(fit, np.array(out).reshape(-1, len(fit.law.params)), failed, None)
