"""Time to fit the saturating power law and draw 1,000 bootstrap resamples (BCa) for a 100-run table; then the
weighted power-floor fit three ways, alternating, on the interval calibration's synthetic studies
(analysis.calibration: a weighted fit + hierarchical bootstrap a study): the variable projection it uses
(analysis.varpro), scipy's least_squares with the law's analytic Jacobian, and with finite differences.
Prints seconds; asserts nothing.

    python bench/bench_fit.py
"""
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


if __name__ == "__main__":
    main()
    jacobian_ab()
