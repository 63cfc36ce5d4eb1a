"""`gr-scaling report` (and `plot`): the Markdown/HTML report with its figures."""
from __future__ import annotations

from scaling.app.common import add_results
from scaling.app.fit import RESULTS_HELP


def command(args) -> None:
    from pathlib import Path

    from analysis.report import write_report

    res = Path(args.results)
    default = res / "report" if res.is_dir() else res.with_name(res.stem + "-report")
    print(write_report(args.results, args.out or default, args.metric, args.n_boot))


def register(sub) -> None:
    for name, text in (("report", "Markdown/HTML report with figures (also writes the plots)"),
                       ("plot", "write the scaling plots (same as report)")):
        a = sub.add_parser(name, help=text)
        add_results(a, RESULTS_HELP)
        a.add_argument("--out", default=None, help="report directory (default: RESULTS/report, or "
                                                   "TABLE-report beside a table)")
        a.set_defaults(fn=command)
