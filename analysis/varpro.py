"""The power-floor law `R0 - A * N^-a` fitted by weighted least squares through variable projection: for a fixed
exponent `a` the law is linear in (R0, A), so the best (R0, A) inside their bounds is a 2-variable box-constrained
least-squares problem solved exactly (the interior solution, else the best of the box's edges and corners), and what
is left is a 1-D search over `a`: a log-spaced grid, then the same grid over the bracket around its best point, repeated.

Why by hand (scipy.optimize.least_squares is what every other law uses): the problem is ill-conditioned along
R0 <-> a (a still-rising curve trades a higher ceiling for a slower approach), where trust-region steps crawl
(~30 function evaluations a fit, 7 ms), and a study's intervals refit it thousands of times; the projection is
exact in (R0, A), global over `a` on the grid, and much faster (bench/bench_fit.py). Weighted (plain squared) loss only: the robust
soft-L1 fit of runs without user outcomes keeps least_squares."""
from __future__ import annotations

import numpy as np
GRID = 48      # exponents a pass
PASSES = 8     # each narrows the bracket ~GRID/2-fold


def _box_ls(u: np.ndarray, yw: np.ndarray, w: np.ndarray, lo: tuple, hi: tuple) -> tuple[np.ndarray, np.ndarray]:
    """For each exponent (rows of u = w * x^-a): the (R0, A) in [lo, hi] minimising |w*R0 - u*A - yw|^2, and its cost.
    Vectorised over rows; the optimum of a convex quadratic on a box is interior, on an edge, or at a corner."""
    # normal equations of columns c1 = w, c2 = -u
    s11 = (w * w).sum()
    s12 = -(w * u).sum(1)
    s22 = (u * u).sum(1)
    b1 = (w * yw).sum()
    b2 = -(u * yw).sum(1)
    det = s11 * s22 - s12 ** 2
    cands = []
    with np.errstate(divide="ignore", invalid="ignore"):
        r0 = np.where(det > 0, (s22 * b1 - s12 * b2) / det, np.nan)
        a_ = np.where(det > 0, (s11 * b2 - s12 * b1) / det, np.nan)
    cands.append((r0, a_))
    inside = np.isfinite(r0) & np.isfinite(a_) & (r0 >= lo[0]) & (r0 <= hi[0]) & (a_ >= lo[1]) & (a_ <= hi[1])
    if inside.all():   # the common case: every interior solution is feasible, so it is the optimum
        res = w * r0[:, None] - u * a_[:, None] - yw
        return np.stack([r0, a_], 1), (res * res).sum(1)
    for r0_fixed in lo[0], hi[0]:   # R0 on a face: best A there, clipped
        with np.errstate(divide="ignore", invalid="ignore"):
            a_f = np.where(s22 > 0, (b2 - s12 * r0_fixed) / s22, lo[1])
        cands.append((np.full_like(a_f, r0_fixed), np.clip(a_f, lo[1], hi[1])))
    for a_fixed in lo[1], hi[1]:    # A on a face: best R0 there, clipped
        r0_f = (b1 - s12 * a_fixed) / s11
        cands.append((np.clip(r0_f, lo[0], hi[0]), np.full_like(r0_f, a_fixed)))
    best_cost = np.full(u.shape[0], np.inf)
    best = np.zeros((u.shape[0], 2))
    for r0_c, a_c in cands:
        ok = np.isfinite(r0_c) & np.isfinite(a_c) & (r0_c >= lo[0]) & (r0_c <= hi[0]) & (a_c >= lo[1]) & (a_c <= hi[1])
        res = w * r0_c[:, None] - u * a_c[:, None] - yw
        cost = np.where(ok, (res * res).sum(1), np.inf)
        better = cost < best_cost
        best_cost = np.where(better, cost, best_cost)
        best[better] = np.stack([r0_c, a_c], 1)[better]
    return best, best_cost


def fit_power_floor(x: np.ndarray, y: np.ndarray, w: np.ndarray, lower: tuple, upper: tuple) -> np.ndarray:
    """theta = (R0, A, a) minimising sum(w^2 (R0 - A x^-a - y)^2) within the bounds (x already in units of the
    reference size)."""
    x, y, w = (np.asarray(v, float) for v in (x, y, w))
    yw, logx = w * y, np.log(x)
    lo, hi = (lower[0], lower[1]), (upper[0], upper[1])

    def profile(alphas: np.ndarray):
        return _box_ls(w * np.exp(-np.outer(alphas, logx)), yw, w, lo, hi)

    # a log grid over the exponent's whole range, then the same grid over the bracket around its best point, until
    # the bracket is ~1e-9 of the exponent wide: a few vectorised passes instead of a scalar minimiser's many calls
    left, right = lower[2], upper[2]
    alpha, fit = None, None
    for _ in range(PASSES):
        grid = np.geomspace(left, right, GRID)
        best, cost = profile(grid)
        i = int(np.argmin(cost))
        alpha, fit = float(grid[i]), best[i]
        left, right = grid[max(i - 1, 0)], grid[min(i + 1, GRID - 1)]
        if right - left <= 1e-8 * alpha:
            break
    return np.array([fit[0], fit[1], alpha])
