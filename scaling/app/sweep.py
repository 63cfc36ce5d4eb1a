"""`gr-scaling sweep submit|status|collect|cancel`: a grid's runs on an executor, and one table of its results.
`collect` lives here, not in `sweeps`: it reads records through `analysis`, and `sweeps` never imports it."""
from __future__ import annotations

from pathlib import Path

from scaling.app.common import add_paths


def collect(grid_path: str, paths, out: str | None = None) -> Path:
    """One results table (CSV and Parquet) of the grid's finished runs: config axes, params, metrics."""
    from analysis.load import load_runs
    from scaling.record import run_dir_for
    from sweeps.launcher import open_grid

    grid, _ = open_grid(grid_path, paths)
    ids = {run_dir_for(c, paths.runs_dir).name for c in grid.runs}
    df = load_runs(paths.runs_dir, run_ids=ids)   # the grid's own run directories only
    base = Path(out) if out else Path(paths.runs_dir) / f"{grid.name}-results"
    base.parent.mkdir(parents=True, exist_ok=True)
    df.to_csv(base.with_suffix(".csv"), index=False)
    df.to_parquet(base.with_suffix(".parquet"), index=False)
    return base.with_suffix(".csv")


def command(args) -> None:
    import sweeps
    from sweeps.launcher import status_table

    paths = sweeps.Paths(args.runs_dir, args.cache_dir, args.data_dir)
    if args.sweep_cmd == "submit":
        sweeps.submit(args.grid, paths, args.executor, args.profile, dry_run=args.dry_run, gpu_tflops=args.gpu_tflops,
                      cpus=args.cpus, only=args.only, progress=args.executor == "inline")
        if args.wait and not args.dry_run:
            print(status_table(sweeps.wait(args.grid, paths)))
    elif args.sweep_cmd == "status":
        print(status_table(sweeps.status(args.grid, paths)))
    elif args.sweep_cmd == "collect":
        print(collect(args.grid, paths, args.out))
    elif args.sweep_cmd == "cancel":
        print(f"cancelled {sweeps.cancel(args.grid, paths)} jobs")


def register(sub) -> None:
    from scaling.estimate_data import GPU_TFLOPS   # light: registering a verb imports no launcher

    sw = sub.add_parser("sweep", help="grids -> runs on an executor; status, collect, cancel")
    swsub = sw.add_subparsers(dest="sweep_cmd", required=True)
    for name in ("submit", "status", "collect", "cancel"):
        a = swsub.add_parser(name)
        a.add_argument("grid", help="grid YAML, e.g. sweeps/grids/quick.yaml")
        add_paths(a)
        if name == "submit":
            a.add_argument("--executor", default="inline", choices=["inline", "local", "slurm"])
            a.add_argument("--profile", default=None, help="slurm/profiles/X.yaml")
            a.add_argument("--dry-run", action="store_true",
                           help="count runs/jobs; every run's training PFLOP and GPU-hours")
            a.add_argument("--gpu-tflops", type=float, default=GPU_TFLOPS,
                           help="achieved TFLOP/s per GPU for --dry-run's GPU-hours (default 400: an H100 in bf16 "
                                "at ~40%% of its peak)")
            a.add_argument("--wait", action="store_true", help="wait for the jobs and print the status")
            a.add_argument("--cpus", type=int, default=1,
                           help="inline: run this many at once, each its own process, the machine's threads split "
                                "among them (default 1; see README's packing figure)")
            a.add_argument("--only", action="append", default=None, metavar="RUN_ID",
                           help="submit just this run of the grid (repeatable; ids from `sweep status`, or their hash alone), "
                                "if missing or failed")
        if name == "collect":
            a.add_argument("--out", default=None, help="table path without suffix (default RUNS/<grid>-results)")
        a.set_defaults(fn=command)
