"""`gr-scaling fit`: the laws fitted over a results directory or table, with their intervals."""
from __future__ import annotations

from scaling.app.common import add_results


def joint(df, args) -> None:
    """`--law sidgr|llmrs`: the joint law's table over every run of its paradigm; `--law cf`: the CF test."""
    from analysis.joint import cf_test, joint_fit
    from scaling.errors import GRError

    try:
        if args.law == "cf":
            print(f"CF test: {cf_test(df, args.metric, n_boot=max(10, args.n_boot // 10)).describe()}")
            return
        jf = joint_fit(df, args.law, args.metric, args.n_boot)
    except ValueError as e:
        raise GRError(f"{args.results}: --law {args.law}: {e}") from None
    print(f"{jf.fit.law.formula}   (95% intervals: {jf.method})")
    print(jf.table().to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    print(jf.reading())


def command(args) -> None:
    from analysis import load_results, study

    df = load_results(args.results)
    if args.law:
        joint(df, args)
        return
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
    a.add_argument("--law", choices=["sidgr", "llmrs", "cf"], default=None,
                   help="the 2025 study's joint law over all runs of its paradigm (a table), or its CF test")
    a.set_defaults(fn=command)


RESULTS_HELP = ("a results directory, a `sweep collect` table, or a CSV/Parquet with columns "
                "size,metric[,seed,group]")
