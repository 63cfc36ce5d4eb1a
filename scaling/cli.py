"""`gr-scaling` command line. Errors of the user's making print one line and exit 2."""
from __future__ import annotations

import argparse
import contextlib
import sys

from scaling.errors import GRError


@contextlib.contextmanager
def _silenced(quiet: bool):
    """--quiet: nothing reaches the terminal while the run works — our bars and log lines are off, and what
    libraries print on their own (weight-loading and GGUF bars, DeepSpeed's accelerator notice, deprecation
    warnings) goes to /dev/null at the file-descriptor level. Errors still surface: they propagate as exceptions
    and are printed after the streams are restored (a GRError as its one line)."""
    if not quiet:
        yield
        return
    import os
    import warnings

    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in (*saved, devnull):
            os.close(fd)


def _run(args) -> None:
    from scaling import config
    from scaling.run import run

    from scaling.distributed import init_from_env, shutdown

    cfg = config.load(args.config, args.overrides)
    dist = init_from_env()      # under torchrun: one rank of a DDP / DeepSpeed run
    try:
        with _silenced(args.quiet):
            out = run(cfg, args.runs_dir, args.cache_dir, args.data_dir, progress=not args.quiet, dist=dist,
                      log=(lambda *_: None) if args.quiet else print)
    finally:
        shutdown()
    if dist.is_main:
        print(out)


def _data_stats(args) -> None:
    from scaling.data import leave_one_out, load_dataset

    ds = load_dataset(args.dataset, args.data_dir)
    print(ds.summary())
    print("items lacking each text field:", ds.missing_fields())
    sp = leave_one_out(ds)
    print(f"training examples (sliding window): {len(sp.train):,}")


def _data_download(args) -> None:
    from scaling.data.download import download

    for p in download(args.dataset, args.dest):
        print(p)


def _presets(args) -> None:
    from scaling.config import ModelConfig
    from scaling.params import recommender_params
    from scaling.sidgr.model import TokenLayout, build_model
    from scaling.sidgr.presets import PRESETS, lr_rule

    layout = TokenLayout([256, 256, 256, 8], 0)
    print(f"{'arch':8} {'preset':8} {'N_RS':>12} {'non-embedding':>14} {'lr (rule)':>10}  "
          "(vocab of 3x256 SIDs + dedup digit; lr rule: scaling.sidgr.presets.lr_rule, set it as train.lr)")
    for arch, table in PRESETS.items():
        for name in table:
            p = recommender_params(build_model(ModelConfig(arch=arch, preset=name), layout))
            print(f"{arch:8} {name:8} {p['n_rs']:>12,} {p['n_rs_non_embedding']:>14,} {lr_rule(name, arch):>10.2e}")


def _analysis(fn):
    """Run an analysis command, turning its one-line errors into the CLI's."""
    def wrapped(args):
        from analysis.errors import AnalysisError
        try:
            fn(args)
        except AnalysisError as e:
            raise GRError(str(e)) from None
    return wrapped


@_analysis
def _fit(args) -> None:
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


@_analysis
def _report(args) -> None:
    from analysis.report import write_report

    from pathlib import Path

    res = Path(args.results)
    default = res / "report" if res.is_dir() else res.with_name(res.stem + "-report")
    print(write_report(args.results, args.out or default, args.metric, args.n_boot))


def _next_rung(axis: str, cfg: dict) -> tuple[str, float | None]:
    """The override that takes the largest run one rung up its axis, and that rung's size when known."""
    from scaling.sidgr.presets import PRESETS

    if axis == "recommender":
        arch = cfg.get("model", {}).get("arch", "encdec")
        names = list(PRESETS.get(arch, {}))
        i = names.index(cfg["model"]["preset"]) if cfg.get("model", {}).get("preset") in names else len(names) - 1
        if i + 1 >= len(names):
            return "model.preset=<a preset larger than the largest in scaling/sidgr/presets.py>", None
        nxt = PRESETS[arch][names[i + 1]]
        if arch == "encdec":
            layers, d, h, dkv, ff = nxt
            size = layers * (4 * d * h * dkv + 2 * d * ff) + layers * (8 * d * h * dkv + 2 * d * ff)
        else:
            layers, d, h, ff = nxt
            size = layers * (4 * d * d + 3 * d * ff)
        return f"model.preset={names[i + 1]}", float(size)
    if axis == "lora":
        r = int(cfg.get("llm", {}).get("lora_r", 8)) * 4
        return f"llm.lora_r={r} llm.lora_alpha={2 * r}", None
    if axis == "tokenizer":
        return f"tokenizer.width={int(cfg.get('tokenizer', {}).get('width', 256)) * 4}", None
    if axis == "encoder":
        ladder = ["minilm", "mpnet", "smollm2", "gemma3-270m"]
        name = cfg.get("encoder", {}).get("name")
        nxt = ladder[ladder.index(name) + 1] if name in ladder[:-1] else "<a larger encoder (Hugging Face id)>"
        return f"encoder.name={nxt}", None
    return "llm.name=<a larger LLM of the same family (Hugging Face id)>", None


@_analysis
def _suggest(args) -> None:
    """For each fitted curve: the next runs ranked by the R0 interval width they are expected to give."""
    import json
    from pathlib import Path

    import numpy as np

    from analysis import load_results, study
    from analysis.suggest import suggest

    df = load_results(args.results)
    curves, _, notes = study(df, args.metric, args.n_boot)
    which = args.metric.split("/")[0]
    for c in curves:
        ci = c.boot.ci()["R0"]
        now = ("not identified" if "R0" in c.unidentified() else "identified") + f", 95% interval [{ci[0]:.4g}, {ci[1]:.4g}]"
        print(f"{c.axis}: ceiling R0 {c.fit.params['R0']:.4g} ({now}; width {ci[1] - ci[0]:.3g})")
        if c.noise != "users+seeds":
            print("  these records have no per-user outcomes; rerun them with this version (outcomes.npz) to rank next runs")
            continue
        rows = df.set_index("run_id").loc[c.runs]
        largest = rows.loc[rows[c.x].astype(float).idxmax()]
        cfg = json.loads((Path(largest["path"]) / "config.json").read_text())
        override, size = _next_rung(c.axis, cfg)
        users = rows[f"{which}/n_users"].to_numpy(int)
        ranked = suggest(c, users, sims=args.sims, larger=size)
        if ranked and ranked[0].kind == "users":
            print("  more evaluation users is the cheapest fix: the points' own sampling error dominates")
        if ranked:
            print(f"  first because {ranked[0].why}")
        for rank, s in enumerate(ranked, 1):
            print(f"  {rank}. {s.what}: expected R0 interval width {s.expected_width:.3g}; "
                  f"training cost ~{s.cost:.2g}x the largest run")
            base = f"gr-scaling run --config {Path(largest['path']) / 'config.json'}"
            if s.kind == "larger":
                print(f"     {base} {override}")
            elif s.kind == "seeds":
                print(f"     for each run of the curve: gr-scaling run --config RUN/config.json seed={int(cfg['seed']) + 1}")
            else:
                more = int(np.median(users)) * 4
                print(f"     for each run of the curve: gr-scaling run --config RUN/config.json eval.test_users={more} "
                      "(retrains: eval.test_users is part of a run's id)")
    for n in notes:
        print("not fitted:", n)


def _reference(args) -> None:
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


def _sweep(args) -> None:
    # The CLI is the one place that sees both sides; `scaling` itself never imports `sweeps`.
    import sweeps
    from sweeps.launcher import status_table

    paths = sweeps.Paths(args.runs_dir, args.cache_dir, args.data_dir)
    if args.sweep_cmd == "submit":
        sweeps.submit(args.grid, paths, args.executor, args.profile, dry_run=args.dry_run)
        if args.wait and not args.dry_run:
            print(status_table(sweeps.wait(args.grid, paths)))
    elif args.sweep_cmd == "status":
        print(status_table(sweeps.status(args.grid, paths)))
    elif args.sweep_cmd == "collect":
        print(sweeps.collect(args.grid, paths, args.out))
    elif args.sweep_cmd == "cancel":
        print(f"cancelled {sweeps.cancel(args.grid, paths)} jobs")


def _quickstart(args) -> None:
    from scaling.quickstart import quickstart

    quickstart(args.runs_dir, args.cache_dir, args.data_dir, reduced=args.reduced, executor=args.executor,
               profile=args.profile, report_dir=args.report_dir)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="gr-scaling", description="Scaling studies of generative recommendation")
    sub = p.add_subparsers(dest="cmd", required=True)

    def paths(sp, runs="runs"):
        sp.add_argument("--runs-dir", default=runs, help="where run directories go (default: %(default)s)")
        sp.add_argument("--cache-dir", default=None, help="embedding/SID cache (default: $GR_SCALING_CACHE "
                        "or ~/.cache/gr-scaling)")
        sp.add_argument("--data-dir", default=None, help="where datasets are looked for (default: "
                        "$GR_SCALING_DATA, then ../shared/datasets beside the repo)")

    r = sub.add_parser("run", help="one run: gr-scaling run [--config F.yaml] key=value ...")
    r.add_argument("--config", default=None)
    r.add_argument("--quiet", action="store_true", help="no progress bars or log lines; print only the run directory")
    r.add_argument("overrides", nargs="*", help="e.g. model.preset=grid tokenizer.width=256")
    paths(r)
    r.set_defaults(fn=_run)

    d = sub.add_parser("data", help="dataset tools")
    dsub = d.add_subparsers(dest="data_cmd", required=True)
    s = dsub.add_parser("stats", help="counts and text coverage of a dataset")
    s.add_argument("dataset")
    s.add_argument("--data-dir", default=None)
    s.set_defaults(fn=_data_stats)
    dl = dsub.add_parser("download", help="McAuley's original 2014 files (needs internet)")
    dl.add_argument("dataset", help="beauty | sports | toys | a McAuley category name")
    dl.add_argument("dest")
    dl.set_defaults(fn=_data_download)

    pr = sub.add_parser("presets", help="recommender size presets and their parameter counts")
    pr.set_defaults(fn=_presets)

    for name, fn, text in (("fit", _fit, "fit scaling laws over a results directory or table (.csv/.parquet)"),
                           ("report", _report, "Markdown/HTML report with figures (also writes the plots)"),
                           ("plot", _report, "write the scaling plots (same as report)")):
        a = sub.add_parser(name, help=text)
        a.add_argument("results", help="a results directory, a `sweep collect` table, or a CSV/Parquet with "
                                       "columns size,metric[,seed,group]")
        a.add_argument("--metric", default="test/recall@10")
        a.add_argument("--n-boot", type=int, default=1000)
        a.add_argument("--out", default=None, help="report directory (default: RESULTS/report, or "
                                                   "TABLE-report beside a table)")
        a.set_defaults(fn=fn)

    sg = sub.add_parser("suggest", help="the next runs that most narrow what the fits leave open")
    sg.add_argument("results", help="a results directory (run records with per-user outcomes)")
    sg.add_argument("--metric", default="test/recall@10")
    sg.add_argument("--n-boot", type=int, default=300)
    sg.add_argument("--sims", type=int, default=8, help="simulated studies per candidate (more: steadier ranking)")
    sg.set_defaults(fn=_suggest)

    rf = sub.add_parser("reference", help="published SID-GR figures (GRID, TIGER), and runs set beside them")
    rf.add_argument("results", nargs="?", default=None, help="a results directory or table (omit: list the figures)")
    rf.add_argument("--metric", default="recall@10", help="recall@5 | recall@10 | ndcg@5 | ndcg@10")
    rf.add_argument("--dataset", default=None, help="only this dataset's figures (when listing)")
    rf.set_defaults(fn=_reference)

    sw = sub.add_parser("sweep", help="grids -> runs on an executor; status, collect, cancel")
    swsub = sw.add_subparsers(dest="sweep_cmd", required=True)
    for name in ("submit", "status", "collect", "cancel"):
        a = swsub.add_parser(name)
        a.add_argument("grid", help="grid YAML, e.g. sweeps/grids/quick.yaml")
        paths(a)
        if name == "submit":
            a.add_argument("--executor", default="inline", choices=["inline", "local", "slurm"])
            a.add_argument("--profile", default=None, help="slurm/profiles/X.yaml")
            a.add_argument("--dry-run", action="store_true", help="count runs/jobs and estimate compute")
            a.add_argument("--wait", action="store_true", help="wait for the jobs and print the status")
        if name == "collect":
            a.add_argument("--out", default=None, help="table path without suffix (default RUNS/<grid>-results)")
        a.set_defaults(fn=_sweep)

    q = sub.add_parser("quickstart", help="a small real scaling study on this machine")
    q.add_argument("--reduced", action="store_true", help="smaller grid (what CI runs)")
    q.add_argument("--executor", default="inline", choices=["inline", "local", "slurm"],
                   help="inline: this process, one run at a time (default); local/slurm: through submitit")
    q.add_argument("--profile", default=None, help="cluster profile for --executor slurm (slurm/profiles/*.yaml)")
    q.add_argument("--report-dir", default=None, help="where the report goes (default: RUNS_DIR/report)")
    paths(q, runs="results/quickstart")
    q.set_defaults(fn=_quickstart)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        args.fn(args)
    except GRError as e:
        print(f"gr-scaling: error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
