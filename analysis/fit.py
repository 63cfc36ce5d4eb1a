"""Fitting a law: robust least squares (scipy.optimize.least_squares, soft-L1 loss) with bounds and a
multi-start grid of initial values; RMSE, AIC and BIC so saturating and pure power laws can be compared."""
from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
from scipy.optimize import least_squares, lsq_linear

from analysis.errors import AnalysisError
from analysis.laws import JOINT_LAWS, LAWS, Law
from analysis.varpro import fit_power_floor


@dataclass
class Fit:
    law: Law
    theta: np.ndarray
    scales: tuple[float, ...]         # sizes are divided by these before the law sees them
    rmse: float
    aic: float
    bic: float
    n: int
    residuals: np.ndarray

    @property
    def params(self) -> dict[str, float]:
        return dict(zip(self.law.params, map(float, self.theta)))

    @property
    def at_bounds(self) -> list[str]:
        """Parameters the optimiser pinned to a bound: the data do not identify them. Within 1e-4 of the
        bound's range counts: the trust-region solver stops a little inside an active bound, by an amount
        that depends on the scipy release (scipy 1.17.1 stops R0 at 1 - 2.9e-6 on the still-rising curve of
        tests/test_analysis.py, which a 1e-6 tolerance missed)."""
        lo, hi = np.array(self.law.lower), np.array(self.law.upper)
        tol = 1e-4 * np.maximum(1.0, np.abs(hi - lo))
        return [p for p, v, a, b, t in zip(self.law.params, self.theta, lo, hi, tol) if v - a < t or b - v < t]

    def predict(self, *sizes) -> np.ndarray:
        return self.law(self.theta, *(np.asarray(s, float) / c for s, c in zip(sizes, self.scales)))


def _scales(law: Law, sizes: list[np.ndarray]) -> tuple[float, ...]:
    if law.name in JOINT_LAWS:   # one common unit, so g1, g2, g and beta are plain ratios of parameter counts
        s = float(np.exp(np.log(sizes[0]).mean()))
        return (s,) * len(sizes)
    return tuple(float(np.exp(np.log(np.maximum(x, 1e-300)).mean())) for x in sizes)


def check_input(law: Law, sizes: list[np.ndarray], y: np.ndarray) -> None:
    if len(sizes) != len(law.inputs):
        raise AnalysisError(f"law '{law.name}' needs sizes {', '.join(law.inputs)}; got {len(sizes)} columns")
    for name, x in zip(law.inputs, sizes):
        if len(x) != len(y):
            raise AnalysisError(f"law '{law.name}': size column {name} has {len(x)} values, metric has {len(y)}")
        if not np.all(np.isfinite(x)) or np.any(x < 0):
            raise AnalysisError(f"law '{law.name}': size column {name} has NaN, infinite or negative values")
    if not np.all(np.isfinite(y)):
        raise AnalysisError(f"law '{law.name}': the metric has {int((~np.isfinite(y)).sum())} NaN/infinite "
                            "values; drop failed runs first")
    if len(y) <= len(law.params):
        raise AnalysisError(f"law '{law.name}' has {len(law.params)} parameters but only {len(y)} points; "
                            "add runs (sizes) or fit a law with fewer parameters")
    if np.ptp(y) == 0:
        raise AnalysisError(f"law '{law.name}': all {len(y)} metric values are equal ({y[0]:.4g}); nothing to fit")
    if np.ptp(sizes[0]) == 0:
        raise AnalysisError(f"law '{law.name}': size column {law.inputs[0]} does not vary; nothing to fit")


def _starts(law: Law, y: np.ndarray) -> list[np.ndarray]:
    grids = []
    for p in law.params:
        g = law.init_grid.get(p, ())
        if p == law.ceiling:        # ceiling starts just above the best observed value
            g = (float(y.max()) * 1.02 + 1e-6, float(y.max()) * 1.3 + 1e-6)
        elif p == "C":
            g = (float(np.median(y)),)
        grids.append(g)
    lo, hi = np.array(law.lower), np.array(law.upper)
    return [np.clip(np.array(s, float), lo + 1e-9, hi - 1e-9) for s in itertools.product(*grids)]


SCREEN_ABOVE = 32   # a start grid larger than this (the joint laws': 144-288 starts) is screened ...
SCREEN_KEEP = 4     # ... to its best this-many (_screened) ...
SCREEN_NFEV = 25    # ... ranked after this many trust-region evaluations from each (0: at the start itself)


def _screened(law: Law, starts: list[np.ndarray], xs: list[np.ndarray], y: np.ndarray, w: np.ndarray,
              short=None) -> list[np.ndarray]:
    """The SCREEN_KEEP most promising of a large start grid. Each start's linear parameters (R0, A, B: the law is exactly
    sum theta_j * d fn/d theta_j over them) are replaced by their best values for its nonlinear ones (one bounded
    linear least-squares solve); with `short`, a few trust-region steps follow from there; starts are ranked by the
    cost they reach. Why: the joint laws' grids have 144-288 starts and a full trust-region run costs ~90 ms, so the
    full grid was 3-43 s a fit and most of a CF test's time. bench/bench_fit.py --joint compares the screened optimum
    with the full grid's on synthetic studies of each law (2026-12-01, 10 LLM-as-RS studies: ranked at the start
    itself, 3 of 10 ended >0.1% worse, up to 7.4%; after 25 evaluations, keeping 4, 1 of 10, by 0.8%, 10x faster)."""
    idx = [law.params.index(p) for p in law.linear]
    lo, hi = np.array(law.lower), np.array(law.upper)
    ranked = []
    for x0 in starts:
        a = law.jac(x0, *xs)[:, idx] * w[:, None]
        r = lsq_linear(a, y * w, bounds=(lo[idx], hi[idx]), method="bvls")
        x = x0.copy()
        x[idx] = np.clip(r.x, lo[idx] + 1e-9, hi[idx] - 1e-9)
        cost = float(((a @ r.x - y * w) ** 2).sum())
        if short is not None:   # a few trust-region steps from it: where its basin leads, not where it starts
            rs = short(x)
            x, cost = rs.x, 2 * rs.cost
        ranked.append((cost, len(ranked), x))
    return [x for _, _, x in sorted(ranked, key=lambda t: t[:2])[:SCREEN_KEEP]]


def fit_arrays(law: Law | str, sizes: list, y, loss: str = "soft_l1", starts: list | None = None,
               scales: tuple | None = None, check: bool = True, sigma=None) -> Fit:
    """`sigma`: each point's standard error (e.g. its sampling error over evaluation users). Given, the fit is
    weighted least squares (residual / sigma, plain squared loss): a point measured on few users pulls less."""
    law = LAWS[law] if isinstance(law, str) else law
    sizes = [np.asarray(s, float) for s in sizes]
    y = np.asarray(y, float)
    if check:
        check_input(law, sizes, y)
    scales = scales or _scales(law, sizes)
    xs = [s / c for s, c in zip(sizes, scales)]
    w = np.ones_like(y)
    if sigma is not None:
        w = 1.0 / np.maximum(np.asarray(sigma, float), 1e-12)
        loss, f_scale = "linear", 1.0
    else:
        f_scale = max(float(np.std(y)) * 0.5, 1e-6)   # soft-L1 switches to linear beyond ~half a std
    resid = lambda t: (law(t, *xs) - y) * w   # noqa: E731
    # The law's own Jacobian where it has one: finite differences cost k extra evaluations an iteration (an
    # analytic one made the weighted power-floor fits of 10 calibration studies 1.38x faster, bench/bench_fit.py).
    jac = (lambda t: law.jac(t, *xs) * w[:, None]) if law.jac is not None else "2-point"
    if law.name == "power_floor" and sigma is not None:   # weighted: the exact projection (analysis.varpro)
        theta = fit_power_floor(xs[0], y, w, law.lower, law.upper)
    else:
        best = None
        if starts is None:
            starts = _starts(law, y)
            if len(starts) > SCREEN_ABOVE and law.linear and law.jac is not None:
                short = (lambda x0: least_squares(resid, x0, jac=jac, bounds=(law.lower, law.upper), loss=loss,
                                                  f_scale=f_scale, method="trf", max_nfev=SCREEN_NFEV)) \
                    if SCREEN_NFEV else None
                starts = _screened(law, starts, xs, y, w, short=short)
        for x0 in starts:
            try:
                r = least_squares(resid, x0, jac=jac, bounds=(law.lower, law.upper), loss=loss,
                                  f_scale=f_scale, method="trf", max_nfev=2000)
            except ValueError:
                continue
            if best is None or r.cost < best.cost:
                best = r
        if best is None:
            raise AnalysisError(f"law '{law.name}': no start converged")
        theta = best.x
    if law.canonical is not None:
        theta = law.canonical(theta)
    res = law(theta, *xs) - y
    n, k = len(y), len(law.params)
    sse = float((res ** 2).sum())
    aic = n * np.log(max(sse, 1e-300) / n) + 2 * k
    bic = n * np.log(max(sse, 1e-300) / n) + k * np.log(n)
    return Fit(law, theta, tuple(scales), float(np.sqrt(sse / n)), float(aic), float(bic), n, res)
