"""`gr-scaling quickstart`: the main job. A real small scaling study on this machine, end to end:

1. runs `sweeps/grids/quick.yaml` (SID-GR recommender / encoder / tokenizer ladders; LLM-as-RS with
   both offline LLMs + the ID-only probe) on Amazon Beauty's dense core with offline models —
   in this process one run at a time (default; live progress bars), or through submitit
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

from scaling.data import load_dataset
from scaling.record import read_json, read_status
from scaling.run import run, run_dir_for

GRIDS = Path(__file__).resolve().parents[1] / "sweeps" / "grids"


def _run_all_inline(grid, runs_dir, cache_dir, data_dir) -> None:
    todo = [c for c in grid.runs if read_status(run_dir_for(c, runs_dir)) != "done"]
    bar = tqdm(total=len(grid.runs), initial=len(grid.runs) - len(todo), desc="quickstart: runs", unit="run")
    for cfg in todo:
        what = cfg.llm.name if cfg.paradigm == "llmrs" else f"{cfg.model.preset}/{cfg.encoder.name}"
        bar.set_postfix_str(f"{cfg.paradigm} {what}")
        try:
            run(cfg, runs_dir, cache_dir, data_dir, progress=True, log=tqdm.write)
        except Exception as e:  # noqa: BLE001 - recorded in the run dir; the study goes on without it
            tqdm.write(f"run failed ({type(e).__name__}: {e}); see {run_dir_for(cfg, runs_dir)}/error.txt")
        bar.update(1)
    bar.close()


def _run_all_submitit(grid_path, runs_dir, cache_dir, data_dir, executor, profile) -> None:
    import sweeps

    paths = sweeps.Paths(runs_dir, cache_dir, data_dir)
    sweeps.submit(str(grid_path), paths, executor=executor, profile=profile, log=tqdm.write)
    total = len(sweeps.status(str(grid_path), paths))
    bar = tqdm(total=total, desc=f"quickstart: runs ({executor})", unit="run")
    while True:
        rows = sweeps.status(str(grid_path), paths)
        bar.n = sum(r["state"] in ("done", "failed") for r in rows)
        bar.refresh()
        if not any(r["state"] in ("pending", "running") for r in rows):
            break
        time.sleep(5)
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


def quickstart(runs_dir: str, cache_dir: str | None, data_dir: str | None, reduced: bool = False,
               executor: str = "inline", profile: str | None = None, report_dir: str | None = None,
               n_boot: int = 1000) -> Path:
    from analysis.report import write_report
    from sweeps.grid import load_grid

    t0 = time.time()
    load_dataset("beauty", data_dir)          # data missing -> one line naming where it looked and --data-dir
    grid_path = GRIDS / ("quick-ci.yaml" if reduced else "quick.yaml")
    grid = load_grid(grid_path)
    print(f"quickstart: {len(grid.runs)} runs of {grid_path.name} -> {runs_dir}")
    if executor == "inline":
        _run_all_inline(grid, runs_dir, cache_dir, data_dir)
    else:
        _run_all_submitit(grid_path, runs_dir, cache_dir, data_dir, executor, profile)
    failed = [run_dir_for(c, runs_dir) for c in grid.runs if read_status(run_dir_for(c, runs_dir)) != "done"]
    with tqdm(total=1, desc="quickstart: fit laws + report", unit="step") as bar:
        report = write_report(runs_dir, report_dir or Path(runs_dir) / "report", n_boot=n_boot)
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
