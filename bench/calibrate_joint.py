"""The joint laws' interval calibration and the CF test's error rates on synthetic studies drawn from each law with
a known truth and per-user binomial noise (analysis.calibration.JOINT_DESIGNS: the SID-GR law's 13-run recommender x
encoder x tokenizer design, the LLM-as-RS law's 4 LLM x 4 LoRA sizes and llmrs-visible's 4 LLM x 5 LoRA sizes
with both of its terms visible). Prints coverage and median width of every
parameter's 95% interval, and how often the CF test finds evidence at beta = 0 (false positives) and at the paper's
beta (power); writes the figures as JSON (--out). Asserts nothing: tests/test_joint.py holds the acceptance checks on
fewer studies; this is the >= 100-study figure.

    python bench/calibrate_joint.py --what sidgr,llmrs,llmrs-visible,cf0,cf --studies 100 --out notebooks/results/calibration/joint.json
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from tqdm import tqdm

from analysis.calibration import calibrate_joint, cf_rates
from analysis.joint import PROFILED
from scaling.precision import cpu_name
from scaling.record.files import write_json


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--what", default="sidgr,llmrs,cf0,cf", help="sidgr, llmrs, llmrs-visible (coverage), cf0 (CF test at beta 0), "
                    "cf (CF test at the design's beta)")
    ap.add_argument("--studies", type=int, default=100)
    ap.add_argument("--cf-studies", type=int, default=None, help="studies for cf0/cf (default --studies)")
    ap.add_argument("--users", type=int, default=20000)
    ap.add_argument("--boot", type=int, default=100, help="bootstrap resamples a study's intervals")
    ap.add_argument("--cf-boot", type=int, default=20, help="user redraws a CF test's interval")
    ap.add_argument("--out", default=None, help="JSON of every figure (written after each part)")
    args = ap.parse_args()
    out = {"cpu": cpu_name(), "parts": {}}
    if args.out and Path(args.out).exists():
        out = json.loads(Path(args.out).read_text())   # parts already measured are kept; a rerun adds or replaces
    for what in args.what.split(","):
        t = time.perf_counter()
        n = args.studies if what in ("sidgr", "llmrs", "llmrs-visible") else (args.cf_studies or args.studies)
        bar = tqdm(total=n, desc=what, unit="study")
        if what in ("sidgr", "llmrs", "llmrs-visible"):
            r = calibrate_joint(what, n, args.users, args.boot, on_study=lambda i: bar.update())
            bar.close()
            how = "profile likelihood" if r["law"] in PROFILED else f"{args.boot} bootstrap resamples"
            print(f"{what}: {n} studies, {args.users} users a run, {how} ({r['failed']} failed fits)")
            for p, c in r["coverage"].items():
                print(f"  {p:5} truth {r['truth'][p]:<8.3g} 95% coverage {c:.2f}  median width "
                      f"{r['median_width'][p]:.3g}  said not identified in {r['unidentified'][p]:.0%}; where "
                      f"identified ({r['identified_studies'][p]} studies) coverage "
                      f"{r['coverage_when_identified'][p]:.2f}")
        else:
            from analysis.calibration import JOINT_DESIGNS
            beta = 0.0 if what == "cf0" else JOINT_DESIGNS["llmrs"]["truth"][-1]
            r = cf_rates(n, args.users, args.cf_boot, beta, on_study=lambda i: bar.update())
            bar.close()
            print(f"CF test, beta = {beta}: {n} studies, {args.users} users a run, {args.cf_boot} redraws: evidence "
                  f"in {r['evidence']:.0%}, no evidence in {r['no_evidence']:.0%} (median held-out error difference "
                  f"{r['median_diff']:.3g})")
        r["seconds"] = time.perf_counter() - t
        out["parts"][what] = r
        if args.out:
            write_json(Path(args.out), out)   # atomic: a killed rerun leaves the figures measured before


if __name__ == "__main__":
    main()
