"""Submit a grid, see its status, cancel it (its results table: scaling.app.sweep.collect).

A sweep's record lives in `<runs_dir>/.sweeps/<grid name>.json` (executor, and the job id of each run
submitted). Submitting again submits only runs that are not done and have no live job.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

from scaling.config import RunConfig, config_hash
from scaling.errors import ConfigError
from scaling.estimate_data import GPU_TFLOPS
from scaling.global_batch import batch_plan
from scaling.record import STATUS_DONE, STATUS_FAILED, STATUS_RUNNING, orphaned, read_json, read_progress, \
    read_status_line, run_dir_for, write_json
from sweeps.executors import make_executor
from sweeps.executors.base import ACTIVE
from sweeps.grid import Grid, grid_name, load_grid
from sweeps.job import RunJob
from sweeps.profile import Profile, load_profile


@dataclass
class Paths:
    runs_dir: str = "runs"
    cache_dir: str | None = None
    data_dir: str | None = None


def _record_path(paths: Paths, name: str) -> Path:
    return Path(paths.runs_dir) / ".sweeps" / f"{name}.json"


def _load_record(paths: Paths, grid_path: str) -> dict:
    p = _record_path(paths, grid_name(grid_path))
    return read_json(p) if p.is_file() else {"grid": str(grid_path), "executor": None, "profile": None, "jobs": {}}


def open_grid(grid_path: str, paths: Paths, profile: str | None = None) -> tuple[Grid, dict]:
    """The grid and its sweep record, precision `auto` resolved for the devices its jobs run on: those of the
    profile given (a submission), else those the sweep record was submitted for (`bf16`), else this machine."""
    rec = _load_record(paths, grid_path)
    rec["bf16"] = load_profile(profile).bf16_target() if profile else rec.get("bf16")
    return load_grid(grid_path, bf16=rec["bf16"]), rec


def _executor(rec: dict, paths: Paths, executor: str | None = None, profile: str | None = None,
              progress: bool = False, desc: str = "runs"):
    name = executor or rec.get("executor") or "inline"
    prof_path = profile or rec.get("profile")
    prof = load_profile(prof_path) if prof_path else Profile()
    ex = make_executor(name, Path(paths.runs_dir) / ".sweeps" / "jobs", prof, progress, desc)
    if hasattr(ex, "profile_path") and prof_path:
        ex.profile_path = prof_path
    return ex


def status(grid_path: str, paths: Paths) -> list[dict]:
    """One row per run: run_id, state (done / running / pending / failed / missing), reason, log."""
    return _status(*open_grid(grid_path, paths), paths)


def _mtime(p: Path) -> float:
    try:
        return p.stat().st_mtime
    except OSError:
        return 0.0


def _status(grid: Grid, rec: dict, paths: Paths) -> list[dict]:
    ex = _executor(rec, paths)
    jobs = rec["jobs"]
    live = ex.state([jobs[h] for h in jobs]) if rec.get("executor") in ("local", "slurm") else {}
    rows = []
    for cfg in grid.runs:
        h = config_hash(cfg)
        run_state, reason = read_status_line(run_dir_for(cfg, paths.runs_dir))
        jid = jobs.get(h)
        job_state = live.get(jid, "") if jid else ""
        if run_state == STATUS_DONE:
            state = "done"
        elif job_state in ACTIVE - {"UNKNOWN"}:
            state = "running" if run_state == STATUS_RUNNING or job_state == "RUNNING" else "pending"
        elif run_state == STATUS_FAILED:
            # resubmitted after it failed, its new job not yet known to the scheduler's accounting: pending
            fresh = jid and job_state == "UNKNOWN" and _mtime(run_dir_for(cfg, paths.runs_dir) / "status") < \
                rec.get("submitted_at", 0)
            state = "pending" if fresh else "failed"
        elif jid and job_state and job_state not in ACTIVE:
            state, reason = "failed", reason or f"job {jid} ended {job_state} without finishing the run"
        elif run_state == STATUS_RUNNING and not jid:
            # no job recorded (e.g. an inline sweep killed mid-way): running only if its process lives
            gone = orphaned(run_dir_for(cfg, paths.runs_dir))
            state, reason = ("failed", gone) if gone else ("running", reason)
        elif run_state == STATUS_RUNNING:
            state = "running" if job_state == "UNKNOWN" else "failed"
        else:
            state = "pending" if jid and job_state in ACTIVE else "missing"
        rows.append({"run_id": run_dir_for(cfg, paths.runs_dir).name, "state": state, "reason": reason,
                     "job_id": jid or "", "job_state": job_state, "log": ex.log_path(jid) if jid else "",
                     "progress": read_progress(run_dir_for(cfg, paths.runs_dir)) if state == "running" else ""})
    return rows


def submit(grid_path: str, paths: Paths, executor: str = "inline", profile: str | None = None,
           dry_run: bool = False, log=print, progress: bool = False, gpu_tflops: float = GPU_TFLOPS,
           cpus: int = 1, only: list[str] | None = None) -> dict:
    """Submit what is missing or failed; returns counts. `only`: just these run ids of the grid (`sweep status`
    lists them), still only where missing or failed: the runs a researcher wants first. `progress` (inline only): a bar over the runs and each
    run's own bars and log lines, in this terminal. `cpus` (inline only): run that many at once, each in its own
    process with this machine's threads shared among them (small models use threads poorly: bench/bench_packing.py)."""
    if cpus < 1:
        raise ConfigError(f"--cpus must be >= 1, got {cpus}")
    if cpus > 1 and executor != "inline":
        raise ConfigError(f"--cpus packs runs of the inline executor; with --executor {executor} set the profile's "
                          "runs_per_gpu / cpus_per_task instead")
    grid, rec = open_grid(grid_path, paths, profile)
    states = {r["run_id"]: r["state"] for r in _status(grid, rec, paths)}
    todo = [c for c in grid.runs if states[run_dir_for(c, paths.runs_dir).name] in ("missing", "failed")]
    if only:   # a run id, or its hash alone (what a run's config hashes to; `gr-scaling run` prints it)
        by_hash = {r.split("-", 1)[1]: r for r in states}
        only = {by_hash.get(o, o) for o in only}
        unknown = sorted(only - set(states))
        if unknown:
            raise ConfigError(f"{grid.path}: --only {unknown[0]} is not a run of this grid; "
                              f"`gr-scaling sweep status {grid_path}` lists its run ids")
        todo = [c for c in todo if run_dir_for(c, paths.runs_dir).name in only]
    counts = {"runs": len(grid.runs), "done": sum(s == "done" for s in states.values()),
              "active": sum(s in ("running", "pending") for s in states.values()), "to_submit": len(todo)}
    ex = _executor(rec, paths, executor, profile, progress and executor == "inline", f"{grid.name}: runs")
    per = getattr(getattr(ex, "profile", None), "runs_per_job", 1) if executor != "inline" else 1
    at_once = getattr(getattr(ex, "profile", None), "runs_per_gpu", 1) if executor != "inline" else cpus
    ranks = getattr(getattr(ex, "profile", None), "ranks", 1) if executor != "inline" else 1
    for c in todo:   # a global batch that cannot split over the job's ranks fails here, not in every job
        try:
            batch_plan(c.train, ranks)
        except ConfigError as e:
            raise ConfigError(f"{grid.path}: run {config_hash(c)} on {ranks} rank(s) ({profile or executor}): {e}") from None
    if executor == "inline" and cpus > 1 and todo:
        per = len(todo)            # one packed call: `cpus` worker processes take the runs in grid order
    chunks = [todo[i:i + per] for i in range(0, len(todo), per)]
    counts["jobs"] = len(chunks)
    if dry_run:
        counts["estimate"] = est = estimate(todo, paths.data_dir, gpu_tflops)
        log(estimate_table(est))
        log(f"{grid.name}: {counts['runs']} runs, {counts['done']} done, {counts['active']} running/pending, "
            f"{counts['to_submit']} to submit as {counts['jobs']} {executor} jobs; training compute <= "
            f"{est['train_pflop']:.3g} PFLOP, {est['gpu_hours']:.3g} GPU-hours ({est['note']})")
        return counts
    rec.update({"grid": grid.path, "executor": executor, "profile": profile})
    calls = [([_grouped(c.to_dict(), grid.name) for c in ch], paths.runs_dir, paths.cache_dir, paths.data_dir, at_once)
             for ch in chunks]
    if executor == "inline":   # inline runs now: record first so status works while they run
        write_json(_record_path(paths, grid.name), rec)
    ids = ex.submit(RunJob(progress=progress and executor == "inline"), calls)
    for ch, jid in zip(chunks, ids):
        for c in ch:
            rec["jobs"][config_hash(c)] = jid
    rec["submitted_at"] = time.time()
    write_json(_record_path(paths, grid.name), rec)
    log(f"{grid.name}: submitted {len(todo)} runs as {len(ids)} jobs ({counts['done']} already done, {counts['active']} still running)")
    return counts


def _grouped(d: dict, name: str) -> dict:
    """A run's config as its job gets it: the tracker's experiment is the grid's name unless the grid set one (not
    in the run id: the same run submitted from another grid file keeps its directory)."""
    if not d["train"].get("tracker_group"):
        d["train"]["tracker_group"] = name
    return d


def wait(grid_path: str, paths: Paths, timeout_s: float = 3600, poll_s: float = 2.0, on_poll=None) -> list[dict]:
    """Poll status until no run is pending/running (or the deadline passes); `on_poll(rows)` after each poll."""
    deadline = time.time() + timeout_s
    while True:
        rows = status(grid_path, paths)
        if on_poll is not None:
            on_poll(rows)
        if not any(r["state"] in ("pending", "running") for r in rows) or time.time() > deadline:
            return rows
        time.sleep(poll_s)


def cancel(grid_path: str, paths: Paths) -> int:
    grid, rec = open_grid(grid_path, paths)
    live = [r["job_id"] for r in _status(grid, rec, paths) if r["state"] in ("pending", "running") and r["job_id"]]
    _executor(rec, paths).cancel(live)
    return len(live)


def estimate(runs: list[RunConfig], data_dir: str | None = None, gpu_tflops: float = GPU_TFLOPS) -> dict:
    """Training compute of every run before it runs, from its paradigm's estimate (scaling.paradigms): max_steps
    of its global batch, or at most max_epochs of its data's examples (early stopping ends most sooner); LLM-as-RS
    from the model's shape with the prompt budget full (an upper bound). GPU-hours at `gpu_tflops` achieved per GPU.
    Runs whose model or data cannot be read here are listed as not counted."""
    from scaling.config import flatten
    from scaling.estimate_data import train_steps
    from scaling.paradigms import get, label

    total, missing, rows = 0.0, {}, []
    for c in runs:
        f = get(c.paradigm).train_flops(c, data_dir)
        steps, _ = train_steps(c.train, c.data, data_dir)
        rows.append({"run_id": run_dir_for(c, ".").name, "label": label(flatten(c.to_dict())), "steps": steps,
                     "pflop": None if f is None else f / 1e15,
                     "gpu_hours": None if f is None else f / (gpu_tflops * 1e12) / 3600})
        if f is None:
            missing[get(c.paradigm).title] = missing.get(get(c.paradigm).title, 0) + 1
        else:
            total += f
    note = (f"GPU-hours at {gpu_tflops:g} TFLOP/s achieved per GPU; epoch-bounded runs at all their epochs, "
            "LLM-as-RS at its full prompt budget: upper bounds" + "".join(
                f"; {n} {title} runs not counted (model config or data not readable here)"
                for title, n in missing.items()))
    return {"train_pflop": total / 1e15, "gpu_hours": total / (gpu_tflops * 1e12) / 3600, "note": note,
            "runs": rows}


def estimate_table(est: dict) -> str:
    def f(v, fmt: str) -> str:
        return format(v, fmt) if v is not None else "?"

    lines = [f"{'run':28} {'steps':>9} {'PFLOP':>10} {'GPU-h':>9}  what"]
    for r in est["runs"]:
        lines.append(f"{r['run_id']:28} {f(r['steps'], ','):>9} {f(r['pflop'], '.3g'):>10} "
                     f"{f(r['gpu_hours'], '.3g'):>9}  {r['label']}")
    return "\n".join(lines)


def status_table(rows: list[dict]) -> str:
    counts = {}
    for r in rows:
        counts[r["state"]] = counts.get(r["state"], 0) + 1
    lines = [f"{'run':28} {'state':8} {'job':12} reason / log"]
    for r in rows:
        extra = (r["reason"] + (f"  (log: {r['log']})" if r["log"] else "")) if r["state"] == "failed" else \
            r.get("progress", "")
        lines.append(f"{r['run_id']:28} {r['state']:8} {r['job_id']:12} {extra}")
    lines.append("  ".join(f"{k}: {v}" for k, v in sorted(counts.items())))
    return "\n".join(lines)

