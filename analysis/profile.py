"""Profile-likelihood intervals for a weighted law fit: a parameter's 95% interval is every value at which the law,
refitted with that parameter held there, fits within chi2(1, 0.95) = 3.84 of the best fit (residuals in units of each
run's sampling error over its evaluation users; over-dispersion, from seeds, widens the threshold by the reduced
chi-square when it exceeds 1).

Why not the bootstrap for every law: on the LLM-as-RS law over a 4 x 4 design (analysis.calibration) the
hierarchical bootstrap's percentile intervals covered the truth in 56-83% of synthetic studies. Its terms trade
against each other along ridges, and every resample refitted from the full fit stays in the full fit's valley, so the
intervals are narrow and wrong; a profile walks the ridge. Each profile point is refitted from the previous point
(warm), and a point the warm refit calls outside the interval is re-checked from the law's whole start grid (its
linear parameters solved exactly, as analysis.fit screens), since a valley can jump: on 2 of 20 studies a warm-only
walk stopped at a false crossing. scipy has no profile likelihood for bounded least squares, hence this module.
"""
from __future__ import annotations

import numpy as np
from scipy.optimize import least_squares, lsq_linear
from scipy.stats import chi2

from analysis.fit import Fit, _starts

WALK = (1 / 512, 1 / 128, 1 / 32, 1 / 8, 1 / 3, 2 / 3, 1.0)   # fractions of the way from the estimate to a bound
BISECT = 5                                                    # halvings of the last step that crossed


class _Profile:
    def __init__(self, fit: Fit, sizes: list, y, sigma):
        self.law, self.fit = fit.law, fit
        self.xs = [np.asarray(s, float) / c for s, c in zip(sizes, fit.scales)]
        self.y, self.w = np.asarray(y, float), 1.0 / np.maximum(np.asarray(sigma, float), 1e-12)
        self.lo, self.hi = np.array(self.law.lower, float), np.array(self.law.upper, float)
        self.k = len(fit.theta)
        self.chi0 = self.chi(fit.theta)
        self.grid = _starts(self.law, self.y)

    def chi(self, theta) -> float:
        return float((((self.law(theta, *self.xs) - self.y) * self.w) ** 2).sum())

    def refit(self, j: int, v: float, x0: np.ndarray) -> tuple[float, np.ndarray]:
        """The best chi-square with parameter j held at v, from the full parameter vector x0."""
        free = [i for i in range(self.k) if i != j]

        def full(t):
            th = np.empty(self.k)
            th[free], th[j] = t, v
            return th

        jac = (lambda t: (self.law.jac(full(t), *self.xs) * self.w[:, None])[:, free]) if self.law.jac else "2-point"
        r = least_squares(lambda t: (self.law(full(t), *self.xs) - self.y) * self.w,
                          np.clip(x0[free], self.lo[free] + 1e-9, self.hi[free] - 1e-9), jac=jac,
                          bounds=(self.lo[free], self.hi[free]), method="trf", max_nfev=300)
        return 2 * float(r.cost), full(r.x)

    def from_grid(self, j: int, v: float, keep: int = 2) -> tuple[float, np.ndarray]:
        """The best of the start grid with parameter j at v (linear parameters solved exactly), refined."""
        lin = [self.law.params.index(p) for p in self.law.linear if self.law.params.index(p) != j]
        ranked = []
        for x0 in self.grid:
            x = x0.copy()
            x[j] = v
            if lin:
                a = self.law.jac(x, *self.xs) * self.w[:, None]
                rest = self.y * self.w - (a[:, j] * v if self.law.params[j] in self.law.linear else 0.0)
                sol = lsq_linear(a[:, lin], rest, bounds=(self.lo[lin], self.hi[lin]), method="bvls")
                x[lin] = sol.x
            ranked.append((self.chi(x), len(ranked), x))
        best = (np.inf, None)
        for _, _, x in sorted(ranked, key=lambda t: t[:2])[:keep]:
            c, th = self.refit(j, v, x)
            if c < best[0]:
                best = (c, th)
        return best

    def inside(self, j: int, v: float, warm: np.ndarray, q: float) -> tuple[bool, np.ndarray]:
        c, th = self.refit(j, v, warm)
        if c - self.chi0 > q:             # maybe a false crossing: the valley may have jumped
            c2, th2 = self.from_grid(j, v)
            if c2 < c:
                c, th = c2, th2
        self.chi0 = min(self.chi0, c)     # a better optimum found on the way lowers the reference
        return c - self.chi0 <= q, th

    def end(self, j: int, bound: float, q: float) -> float:
        est, warm, last_in, out = self.fit.theta[j], self.fit.theta.copy(), self.fit.theta[j], None
        for frac in WALK:
            v = est + (bound - est) * frac
            ok, th = self.inside(j, v, warm, q)
            if not ok:
                out = v
                break
            last_in, warm = v, th
        if out is None:
            return float(bound)
        for _ in range(BISECT):
            m = 0.5 * (last_in + out)
            ok, th = self.inside(j, m, warm, q)
            if ok:
                last_in, warm = m, th
            else:
                out = m
        return float(0.5 * (last_in + out))


def profile_intervals(fit: Fit, sizes: list, y, sigma, level: float = 0.95) -> dict[str, tuple[float, float]]:
    """{parameter: (lo, hi)}; an end at the law's bound means the runs do not rule out that bound."""
    p = _Profile(fit, sizes, y, sigma)
    dof = max(len(p.y) - p.k, 1)
    q = float(chi2.ppf(level, 1)) * max(1.0, p.chi0 / dof)
    out = {}
    for j, name in enumerate(fit.law.params):
        a, b = p.end(j, p.lo[j], q), p.end(j, p.hi[j], q)
        out[name] = (min(a, b), max(a, b))
    return out
