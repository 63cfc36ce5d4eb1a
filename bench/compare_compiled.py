"""Paired test metrics of a compiled run against its eager twin and against a second eager seed (issue #29: a
compiled run equals an eager one within the variation between seeds), from the committed records:
    python bench/compare_compiled.py"""
import json
from analysis.outcomes import compare_runs
e0 = "notebooks/results/dense-study/sidgr-aa0b0b891ab0a1ac"
for name, b in (("compiled seed 0", "notebooks/results/compile-check/compiled/sidgr-aa0b0b891ab0a1ac"),
                ("eager seed 1", "notebooks/results/compile-check/eager/sidgr-ab8add3ebb31fb60")):
    for m in ("recall@10", "ndcg@10"):
        p = compare_runs(e0, b, m)
        print(f"{name} - eager seed 0, test {m}: {p}")
