"""Time to fit the saturating power law and draw 1,000 bootstrap resamples (BCa) for a 100-run table.
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


if __name__ == "__main__":
    main()
