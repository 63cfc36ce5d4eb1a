"""Which runs to do next: for a fitted curve, the candidate additions (a larger size, another seed at every size,
more evaluation users at every size) ranked by the interval width of the ceiling R0 they are expected to give.

Expected widths come from simulation: the current fit is taken as the truth, each candidate design (sizes,
seeds, users per run) is drawn many times with per-user hits at the law's rate, and each draw is fitted and
bootstrapped exactly as the report does (weighted fit, hierarchical bootstrap); the median width is the
expectation. It answers "which of these narrows R0 most", not "what will R0 be".

Those widths take the fitted law as the truth, so on a curve still rising at its largest size they favour more
users or seeds (which sharpen the law's own guess of the ceiling) over a larger size (which checks the guess). A
ceiling above the data is an extrapolation; only a larger size measures it. So a curve is first tested for that
(`still_rising`): when the runs cannot rule out that the ceiling lies well above the law's value at the largest
size, a larger size is ranked first whatever the widths say, and the reason is given; otherwise the narrowest
expected interval wins (ties: the cheaper).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from analysis.outcomes import fit_with_user_noise

SIZE_STEP = 4.0     # a "larger size" is this many times the largest so far
USER_STEP = 4       # "more users" evaluates this many times as many users per run
RISING_SE = 2.0     # "still rising": the ceiling may lie more than this many of the largest run's standard errors above it


@dataclass
class Design:
    sizes: np.ndarray       # one entry per run
    users: np.ndarray       # evaluation users per run


@dataclass
class Suggestion:
    kind: str                           # larger | seeds | users | none
    what: str                           # in words
    expected_width: float               # median 95% interval width of R0 after it
    new_runs: list = field(default_factory=list)   # (size, users) of each run to add or redo
    cost: float = 0.0                   # sum of new runs' sizes over the largest existing size (training cost proxy)
    why: str = ""                       # for the first: why it is first


def still_rising(boot, n_max: float, sigma_top: float, level: float = 0.95, k: float = RISING_SE) -> tuple[bool, float]:
    """(rising, gap_hi): gap_hi is the upper `level` bound over the bootstrap of R0 minus the law's value at the
    largest size (how far above the largest run the ceiling may lie); rising when it exceeds `k` standard errors
    of the largest run, i.e. the runs cannot rule out that the curve still climbs measurably past its largest size.
    On synthetic studies (analysis.calibration, 40 studies each): true for 93% of curves 22% below their
    ceiling at the largest size (500 users a point) and 100% at 2,000 users; for 12-30% of curves within 0.3% of
    it (2,000 users; 12% with seed 1, 30% with seed 4)."""
    fit = boot.fit
    x = np.array([n_max / fit.scales[0]])
    gaps = np.array([t[0] - fit.law(t, x)[0] for t in boot.samples]) if len(boot.samples) else np.array([np.inf])
    gap_hi = float(np.quantile(gaps, (1 + level) / 2))
    return gap_hi > k * sigma_top, gap_hi


def simulate_width(theta: np.ndarray, scale: float, law, design: Design, rng: np.random.Generator, sims: int = 8,
                   n_boot: int = 60, param: int = 0) -> float:
    """Median width of the 95% bootstrap interval of parameter `param` over `sims` draws of `design`."""
    widths = []
    for _ in range(sims):
        p = np.clip(law(theta, design.sizes / scale), 1e-4, 1 - 1e-4)
        values = [(rng.random(int(u)) < q).astype(float) for q, u in zip(p, design.users)]
        if np.ptp([v.mean() for v in values]) == 0:
            continue
        try:
            _, b, *_ = fit_with_user_noise(law.name, design.sizes, values, n_boot, int(rng.integers(1 << 30)))
        except Exception:   # noqa: BLE001 - an unfittable draw counts as an interval over the whole range
            widths.append(law.upper[param] - law.lower[param])
            continue
        lo, hi = b.ci()[law.params[param]]
        widths.append(hi - lo)
    return float(np.median(widths)) if widths else float("nan")


def candidates(sizes: np.ndarray, users: np.ndarray, larger: float | None = None) -> list[tuple[str, str, Design, list, float]]:
    """(kind, words, design after, new runs, cost) for each candidate. `larger`: the size the next rung of the
    axis really has (e.g. the next preset), else SIZE_STEP x the largest."""
    sizes, users = np.asarray(sizes, float), np.asarray(users, int)
    top, u = sizes.max(), int(np.median(users))
    bigger = float(larger) if larger else top * SIZE_STEP
    out = [("larger", f"one run at a larger size ({bigger:.3g}, {bigger / top:.2g}x the largest)",
            Design(np.append(sizes, bigger), np.append(users, u)), [(bigger, u)], bigger / top),
           ("seeds", "another seed at every size",
            Design(np.concatenate([sizes, sizes]), np.concatenate([users, users])),
            [(s, int(k)) for s, k in zip(sizes, users)], float(sizes.sum() / top)),
           ("users", f"{USER_STEP}x the evaluation users at every size (re-run each with eval.test_users x{USER_STEP})",
            Design(sizes, users * USER_STEP), [(s, int(k) * USER_STEP) for s, k in zip(sizes, users)],
            float(sizes.sum() / top))]
    return out


def suggest(curve, users: np.ndarray, sims: int = 8, n_boot: int = 60, seed: int = 0,
            larger: float | None = None) -> list[Suggestion]:
    """Candidates for one fitted curve (analysis.study.Curve: fit, n, and where known boot and sigma), best first:
    a larger size when the curve may still be rising at its largest size (`still_rising`), else the narrowest
    expected R0 interval (ties: the cheaper)."""
    rng = np.random.default_rng(seed)
    f = curve.fit
    out = []
    for kind, what, design, runs, cost in candidates(curve.n, users, larger):
        w = simulate_width(f.theta, f.scales[0], f.law, design, rng, sims, n_boot)
        out.append(Suggestion(kind, what, w, runs, cost))
    rising, gap_hi = False, 0.0
    sigma = getattr(curve, "sigma", None)
    if getattr(curve, "boot", None) is not None and sigma is not None:
        top = int(np.argmax(curve.n))
        rising, gap_hi = still_rising(curve.boot, float(curve.n[top]), float(sigma[top]))
    out.sort(key=lambda s: (rising and s.kind != "larger", np.nan_to_num(s.expected_width, nan=np.inf), s.cost))
    if out:
        out[0].why = (f"the ceiling may lie up to {gap_hi:.3g} above the law's value at the largest size "
                      f"(> {RISING_SE:g} standard errors of that run): still rising, so the ceiling is an "
                      "extrapolation only a larger size can check" if rising else
                      "the narrowest expected ceiling interval" + (" at the lowest cost" if len(out) > 1 and
                      out[0].expected_width == out[1].expected_width else ""))
    return out
