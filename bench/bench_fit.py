"""Time to fit the saturating power law and draw 1,000 bootstrap resamples (BCa) for a 100-run table; then the
weighted power-floor fit three ways, alternating, on the interval calibration's synthetic studies
(analysis.calibration: a weighted fit + hierarchical bootstrap a study): the variable projection it uses
(analysis.varpro), scipy's least_squares with the law's analytic Jacobian, and with finite differences.
Prints seconds; asserts nothing. `--joint`: the joint laws' start-grid screening (analysis.fit._screened) against
the full 144-288-start grid on synthetic studies drawn from each law (analysis.calibration.draw_joint): time and the
weighted cost each reaches.

    python bench/bench_fit.py
    python bench/bench_fit.py --joint
"""
import sys
import time

import numpy as np

from analysis.bootstrap import bootstrap
from analysis.fit import fit_arrays


def main():
    rng = np.random.default_rng(0)
    n = np.repeat(np.logspace(5, 8, 20), 5)                     # 20 sizes x 5 seeds = 100 runs
    s = np.exp(np.log(n).mean())
    y = 0.08 - 0.02 * (n / s) ** -0.5 + rng.normal(0, 0.002, len(n))
    t = time.perf_counter()
    f = fit_arrays("power_floor", [n], y)
    t_fit = time.perf_counter() - t
    b = bootstrap(f, [n], y, n=1000)
    b.ci()
    total = time.perf_counter() - t
    print(f"100 runs: multi-start fit {t_fit * 1e3:.0f} ms; fit + 1,000 bootstrap resamples + jackknife + BCa "
          f"intervals {total:.2f} s ({b.failed} failed resamples)")


def jacobian_ab(studies: int = 10, reps: int = 2) -> None:
    from dataclasses import replace

    from analysis import laws
    from analysis.calibration import calibrate

    with_jac = laws.LAWS["power_floor"]
    lsq = replace(with_jac, name="power_floor (least_squares)")   # another name: fit_arrays's projection is skipped
    modes = (("projection", with_jac), ("lsq analytic jac", lsq), ("lsq finite diff", replace(lsq, jac=None)))
    times = {name: [] for name, _ in modes}
    for _ in range(reps):
        for name, law in modes:
            laws.LAWS["power_floor"] = law
            t = time.perf_counter()
            out = calibrate(studies=studies, users=500, seeds=1, n_boot=100, seed=1, methods=("users",))
            times[name].append(time.perf_counter() - t)
            print(f"  {name:18} {times[name][-1]:.2f} s, coverage {out['users']['coverage']}")
    laws.LAWS["power_floor"] = with_jac
    best = {k: min(v) for k, v in times.items()}
    print(f"{studies} calibration studies x 100 resamples: " + ", ".join(
        f"{k} {v:.2f} s ({v / best['projection']:.2f}x)" for k, v in best.items()))


def screening_ab(studies: int = 5, keeps=(None,), laws=("sidgr", "llmrs", "llmrs_no_cf")) -> None:
    """`keeps`: screenings to compare: "K" (the best K starts after the linear solve) or "K:E" (the best K after E
    trust-region evaluations from every start); None: analysis.fit's defaults."""
    import analysis.fit  # noqa: F401
    fitmod = sys.modules["analysis.fit"]   # the module (the package exports a function named fit)
    from analysis.calibration import JOINT_DESIGNS, draw_joint
    from analysis.outcomes import user_noise

    keeps = [k or f"{fitmod.SCREEN_KEEP}:{fitmod.SCREEN_NFEV}" for k in keeps]
    default = fitmod.SCREEN_KEEP, fitmod.SCREEN_NFEV, fitmod.SCREEN_ABOVE
    for law in laws:
        design = JOINT_DESIGNS["llmrs" if law == "llmrs_no_cf" else law]
        rng = np.random.default_rng(0)
        t_full, t_scr, ratios = 0.0, {k: 0.0 for k in keeps}, {k: [] for k in keeps}
        for _ in range(studies):
            sizes, values = draw_joint(design, rng)
            y, _, _, sigma = user_noise(values)
            cost = lambda f: float(((f.residuals / sigma) ** 2).sum())   # noqa: E731
            t = time.perf_counter()
            fitmod.SCREEN_ABOVE = 10 ** 9                 # no screening: every start of the grid
            full = fitmod.fit_arrays(law, sizes, y, sigma=sigma)
            t_full += time.perf_counter() - t
            fitmod.SCREEN_ABOVE = default[2]
            for k in keeps:
                n_keep, _, nfev = str(k).partition(":")   # "8:20": keep 8 after 20 evaluations from every start
                fitmod.SCREEN_NFEV = int(nfev or 0)
                fitmod.SCREEN_KEEP = int(n_keep)
                t = time.perf_counter()
                scr = fitmod.fit_arrays(law, sizes, y, sigma=sigma)
                t_scr[k] += time.perf_counter() - t
                ratios[k].append(cost(scr) / cost(full))
        fitmod.SCREEN_KEEP, fitmod.SCREEN_NFEV, fitmod.SCREEN_ABOVE = default
        print(f"{law}: {studies} studies; full grid {t_full / studies:.2f} s a fit")
        for k in keeps:
            r = np.array(ratios[k])
            print(f"  screened to {k} (starts[:evaluations]): {t_scr[k] / studies:.3f} s ({t_full / t_scr[k]:.0f}x); cost / full grid's: "
                  f"median {np.median(r):.6f}, max {r.max():.6f}, worse by >0.1% in {int((r > 1.001).sum())} of "
                  f"{studies}, better by >0.1% in {int((r < 0.999).sum())}")


if __name__ == "__main__":
    if "--joint" in sys.argv:   # --joint [STUDIES [KEEP,KEEP,...]]
        rest = sys.argv[sys.argv.index("--joint") + 1:]
        screening_ab(int(rest[0]) if rest else 5, keeps=tuple(rest[1].split(",")) if len(rest) > 1 else (None,))
    else:
        main()
        jacobian_ab()
