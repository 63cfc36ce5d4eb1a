"""`gr-scaling quickstart`: the main job. A real small scaling study on this machine, end to end:

1. runs `sweeps/grids/quick.yaml` (SID-GR recommender / encoder / tokenizer ladders; LLM-as-RS with
   both offline LLMs + the ID-only probe) on Amazon Beauty's dense core with offline models —
   through `sweeps`: in this process one run at a time (default; live progress bars), or through submitit
   (`--executor local|slurm --profile ...`);
2. fits the laws with bootstrap intervals, finds saturation points, compares the paradigms;
3. writes the report (markdown + HTML + figures) and prints a summary table.

Every run is content-addressed, so a second quickstart reuses all finished runs and only refits.
`--reduced` runs `quick-ci.yaml`: the same code path on a grid small enough for CI.
"""
from __future__ import annotations

import time
from pathlib import Path

from tqdm.auto import tqdm

from scaling.app.common import add_paths
from scaling.data import load_dataset
from scaling.shipped import find
from scaling.record import read_json, read_status, run_dir_for



def _run_all(grid_path: Path, runs_dir, cache_dir, data_dir, executor: str, profile, cpus: int = 1) -> None:
    """Every run of the grid through `sweeps` — in this process with live bars (inline), or through submitit,
    polled with a bar until none is pending or running."""
    import sweeps

    paths = sweeps.Paths(runs_dir, cache_dir, data_dir)
    sweeps.submit(str(grid_path), paths, executor=executor, profile=profile, log=tqdm.write, progress=True,
                  cpus=cpus if executor == "inline" else 1)
    if executor == "inline":
        return
    bar = tqdm(total=len(sweeps.status(str(grid_path), paths)), desc=f"quickstart: runs ({executor})", unit="run")

    def show(rows):
        bar.n = sum(r["state"] in ("done", "failed") for r in rows)
        bar.refresh()
    sweeps.wait(str(grid_path), paths, timeout_s=float("inf"), poll_s=5, on_poll=show)
    bar.close()


def summary(runs_dir: str, metric: str = "test/recall@10") -> str:
    """Every run: its metric with the 95% interval over its evaluation users, most-popular on the same users,
    and its wall time; then where the time went."""
    import numpy as np

    from analysis import load_runs
    from analysis.load import run_label

    df = load_runs(runs_dir)
    which = metric.split("/")[0]
    lines = [f"{'paradigm':8} {'varies':38} {'params':>13} {'R@10':>7} {'95% CI (users)':>17} {'users':>5} "
             f"{'NDCG@10':>8} {'pop R@10':>8} {'wall s':>7}"]
    for _, r in df.sort_values(["paradigm", "n_llm"]).iterrows():
        size = f"{int(r['n_llm'] if r['paradigm'] == 'llmrs' else r['n_rs_non_embedding']):,}"
        lo, hi = r.get(f"{metric}.lo", np.nan), r.get(f"{metric}.hi", np.nan)
        ci = f"[{lo:.4f}, {hi:.4f}]" if np.isfinite(lo) else ""
        users = r.get(f"{which}/n_users", np.nan)
        lines.append(f"{r['paradigm']:8} {run_label(r):38} {size:>13} {r[metric]:>7.4f} {ci:>17} "
                     f"{int(users) if np.isfinite(users) else '':>5} {r['test/ndcg@10']:>8.4f} "
                     f"{r['test/popular/recall@10']:>8.4f} {r.get('timing.wall_s', np.nan):>7.0f}")
    if "timing.wall_s" in df:
        wall = df.groupby("paradigm")["timing.wall_s"].sum()
        slow = df.nlargest(3, "timing.wall_s")
        lines.append("where the time went: " + ", ".join(f"{p} {s:.0f} s" for p, s in wall.items()) + "; slowest: "
                     + ", ".join(f"{run_label(r)} {r['timing.wall_s']:.0f} s" for _, r in slow.iterrows()))
    return "\n".join(lines)


# the committed dense study (issue #26), in a checkout; an installed copy has none and its report goes without
COMMITTED_STUDY = Path(__file__).resolve().parents[2] / "notebooks" / "results" / "dense-study"


def beside_committed_study(runs_dir: str, report: Path, study: Path = COMMITTED_STUDY) -> None:
    """The report's section setting the fresh runs beside the committed study (analysis.beside), appended to
    report.md and report.html."""
    from analysis import load_results
    from analysis.beside import beside_section
    from analysis.report import _html

    if not study.is_dir():
        return
    lines = beside_section(load_results(runs_dir), study)
    if lines:
        md = report.read_text().rstrip("\n") + "\n\n" + "\n".join(lines)
        report.write_text(md)
        (report.parent / "report.html").write_text(_html(md))


def quickstart(runs_dir: str, cache_dir: str | None, data_dir: str | None, reduced: bool = False,
               executor: str = "inline", profile: str | None = None, report_dir: str | None = None,
               n_boot: int | None = None, cpus: int = 1) -> Path:
    from analysis.report import write_report
    from sweeps.launcher import open_grid, Paths

    t0 = time.time()
    load_dataset("beauty", data_dir)          # data missing -> one line naming where it looked and --data-dir
    grid_path = find("quick-ci" if reduced else "quick", "sweeps/grids/")   # shipped: a checkout's or a wheel's
    grid, _ = open_grid(str(grid_path), Paths(runs_dir, cache_dir, data_dir), profile)
    print(f"quickstart: {len(grid.runs)} runs of {grid_path.name} -> {runs_dir}")
    _run_all(grid_path, runs_dir, cache_dir, data_dir, executor, profile, cpus)
    failed = [run_dir_for(c, runs_dir) for c in grid.runs if read_status(run_dir_for(c, runs_dir)) != "done"]
    with tqdm(total=1, desc="quickstart: fit laws + report", unit="step") as bar:
        # 1,000 resamples; 200 for the reduced (CI) grid, whose 32-user metrics are too coarse to merit more
        n_boot = n_boot or (200 if reduced else 1000)
        report = write_report(runs_dir, report_dir or Path(runs_dir) / "report", n_boot=n_boot)
        beside_committed_study(runs_dir, report)
        bar.update(1)
    print("\n" + summary(runs_dir))
    for axis, f in read_json(report.parent / "fits.json").items():
        r0 = "not identified" if "R0" in f["unidentified"] else f"[{f['ci']['R0'][0]:.4f}, {f['ci']['R0'][1]:.4f}]"
        print(f"fit {axis:12} R0 {f['R0']:.4f} ({r0}), a {f['a']:.3g} over {f['sizes']} sizes; saturation: "
              f"{f['saturation']}")
    md = report.read_text()
    for line in md.splitlines():   # the report's paired verdicts and serving cost, as printed lines
        if line.startswith(("- best", "Serving cost")):
            print(line.lstrip("- "))
    if failed:
        print(f"{len(failed)} runs did not finish (see error.txt in each): {', '.join(p.name for p in failed)}")
    print(f"quickstart finished in {time.time() - t0:.0f} s; report: {report} (and report.html beside it)")
    return report


def command(args) -> None:
    quickstart(args.runs_dir, args.cache_dir, args.data_dir, reduced=args.reduced, executor=args.executor,
               profile=args.profile, report_dir=args.report_dir, cpus=args.cpus)


def register(sub) -> None:
    q = sub.add_parser("quickstart", help="a small real scaling study on this machine")
    q.add_argument("--reduced", action="store_true", help="smaller grid (what CI runs)")
    q.add_argument("--executor", default="inline", choices=["inline", "local", "slurm"],
                   help="inline: this process, one run at a time (default); local/slurm: through submitit")
    q.add_argument("--profile", default=None, help="cluster profile for --executor slurm (slurm/profiles/*.yaml)")
    q.add_argument("--cpus", type=int, default=1,
                   help="inline: runs at once, each its own process, the machine's threads split among them")
    q.add_argument("--report-dir", default=None, help="where the report goes (default: RUNS_DIR/report)")
    add_paths(q, runs="results/quickstart")
    q.set_defaults(fn=command)
