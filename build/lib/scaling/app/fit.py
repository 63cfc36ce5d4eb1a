"""`gr-scaling fit`: the laws fitted over a results directory or table, with their intervals."""
from __future__ import annotations

from scaling.app.common import add_results


def command(args) -> None:
    from analysis import load_results, study

    df = load_results(args.results)
    curves, comp, notes = study(df, args.metric, args.n_boot)
    for c in curves:
        ci, unid = c.boot.ci(), c.unidentified()
        print(f"{c.axis:12s} {c.fit.law.formula}: " + ", ".join(
            f"{p}={v:.4g} " + ("(not identified)" if p in unid else f"[{ci[p][0]:.4g}, {ci[p][1]:.4g}]")
            for p, v in c.fit.params.items())
            + f"; RMSE {c.fit.rmse:.3g}; intervals over {c.noise}; {c.sat.describe()}")
    if comp is not None:
        sid = next(c for c in curves if c.paradigm == "sidgr")
        if "R0" in sid.unidentified():
            print("LLM-as-RS vs SID-GR ceiling: not stated (the SID-GR ceiling is not identified by these runs)")
        else:
            print(f"LLM-as-RS vs SID-GR ceiling: relative improvement {comp.rel_improvement:+.1%} "
                  f"[{comp.rel_improvement_ci[0]:+.1%}, {comp.rel_improvement_ci[1]:+.1%}]")
    for n in notes:
        print("not fitted:", n)
    for s in df.attrs.get("skipped", []):
        print("skipped record:", s)


def register(sub) -> None:
    a = sub.add_parser("fit", help="fit scaling laws over a results directory or table (.csv/.parquet)")
    add_results(a, RESULTS_HELP)
    a.set_defaults(fn=command)


RESULTS_HELP = ("a results directory, a `sweep collect` table, or a CSV/Parquet with columns "
                "size,metric[,seed,group]")
