"""`gr-scaling fidelity RESULTS`: the SID-GR fidelity ablation as one Markdown table (analysis.fidelity)."""
from __future__ import annotations


def command(args) -> None:
    from analysis.fidelity import table

    print(table(args.results, args.baseline))


def register(sub) -> None:
    f = sub.add_parser("fidelity", help="SID-GR records against the pre-issue-#14 recipe, paired (a Markdown table)")
    f.add_argument("results", help="a results directory, e.g. notebooks/results/fidelity")
    f.add_argument("--baseline", default=None, help="run id of the baseline row (default: the run with no switch)")
    f.set_defaults(fn=command)
