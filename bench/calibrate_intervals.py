"""Prints the interval calibration on synthetic studies with a known law (analysis.calibration): coverage and
width of each method's 95% intervals, or with --suggest how `suggest` ranks next runs on curves still rising.

    python bench/calibrate_intervals.py [--studies 100] [--users 500] [--seeds 1] [--boot 200] [--suggest]
Prints figures; asserts nothing (tests/test_uncertainty.py holds the acceptance checks).
"""
from __future__ import annotations

import argparse
import time

from analysis.calibration import SIZES, calibrate, check_suggest, rising_rate


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--studies", type=int, default=100)
    ap.add_argument("--users", type=int, default=500)
    ap.add_argument("--seeds", type=int, default=1)
    ap.add_argument("--boot", type=int, default=200)
    ap.add_argument("--r0", type=float, default=0.06)
    ap.add_argument("--alpha", type=float, default=0.5, help="the law's exponent (1.0: saturated by the largest sizes)")
    ap.add_argument("--suggest", action="store_true", help="check `suggest` instead (rising curves)")
    args = ap.parse_args()
    if args.suggest:
        t = time.perf_counter()
        r = check_suggest(args.studies, args.users)
        print(f"suggest on {args.studies} rising studies ({args.users} users/run): larger size ranked first in "
              f"{r['larger_first']:.0%}; expected / measured R0 width: median {r['median_ratio']:.2f}, within 1.5x in "
              f"{r['within_1.5']:.0%} of studies ({time.perf_counter() - t:.0f} s)")
        print(f"called still rising: saturated curves (a=1, 2,000 users) {rising_rate():.0%}, "
              f"(a=1, 500 users) {rising_rate(users=500):.0%}")
        return
    t = time.perf_counter()
    out = calibrate(args.studies, args.users, args.seeds, args.boot, r0=args.r0, alpha=args.alpha)
    truth = out.pop("truth")
    print(f"{args.studies} studies, sizes {SIZES.min():.0e}-{SIZES.max():.0e} ({len(SIZES)}), {args.seeds} seed(s), "
          f"{args.users} users per run; truth " + ", ".join(f"{k}={v:.4g}" for k, v in truth.items()))
    for m, r in out.items():
        print(f"{m:6s} coverage " + ", ".join(f"{p} {c:.2f}" for p, c in r["coverage"].items())
              + "; median width " + ", ".join(f"{p} {w:.3g}" for p, w in r["median_width"].items()))
    print(f"{time.perf_counter() - t:.0f} s")


if __name__ == "__main__":
    main()
