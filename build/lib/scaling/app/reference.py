"""`gr-scaling reference`: published SID-GR figures (GRID, TIGER), and whole-dataset runs beside them."""
from __future__ import annotations


def command(args) -> None:
    """Published SID-GR figures (GRID, TIGER) and the runs of RESULTS that can be set beside them."""
    from analysis import load_results
    from analysis.references import beside_references, describe, references

    metric = args.metric.split("/")[-1]
    if args.results is None:
        print(references(args.dataset).to_string(index=False))
        return
    table = beside_references(load_results(args.results), metric)
    if table.empty:
        print(f"{args.results}: no SID-GR run on a whole dataset (no data.max_users / data.max_items subset) with the "
              "settings of a published figure; `gr-scaling reference` lists the figures and their settings")
        return
    for line in describe(table, metric):
        print(line)


def register(sub) -> None:
    rf = sub.add_parser("reference", help="published SID-GR figures (GRID, TIGER), and runs set beside them")
    rf.add_argument("results", nargs="?", default=None, help="a results directory or table (omit: list the figures)")
    rf.add_argument("--metric", default="recall@10", help="recall@5 | recall@10 | ndcg@5 | ndcg@10")
    rf.add_argument("--dataset", default=None, help="only this dataset's figures (when listing)")
    rf.set_defaults(fn=command)
