"""The study report: Markdown (and HTML) with the figures, fitted laws and their intervals."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.load import best_runs, run_label, with_outcomes
from analysis.plots import plot_runs, plot_scaling, plot_training
from analysis.study import Curve, comparison_curves, study

LABELS_BY_AXIS = {"recommender": "SID-GR recommender (non-embedding params)", "encoder": "SID-GR text encoder params",
          "tokenizer": "SID-GR tokenizer params", "llm": "LLM-as-RS LLM params",
          "lora": "LLM-as-RS trainable (LoRA) params"}


def label(c: Curve) -> str:
    return LABELS_BY_AXIS.get(c.axis, f"group '{c.axis}' ({c.x})")


def _fmt_ci(v, ci):
    return f"{v:.4g} [{ci[0]:.4g}, {ci[1]:.4g}]"


def noise_line(c: Curve) -> str:
    if c.noise == "users+seeds":
        s = (f"Each point carries its 95% interval over its evaluation users (error bars); the fit is weighted by "
             f"each point's sampling error (median {np.median(c.sigma):.2g}) and its intervals come from a "
             f"hierarchical bootstrap: seeds resampled within each size, evaluation users within each run.")
        if c.seed_sd is not None:
            s += (f" Seed spread (pooled sd between seeds of one size) {c.seed_sd:.2g} vs user-sampling spread "
                  f"{np.median(c.sigma):.2g}.")
        return s
    return ("Intervals resample runs only: these records have no per-user outcomes, so evaluation noise is not in "
            "them (rerun with this version to record outcomes.npz).")


def curve_table(c: Curve) -> str:
    ci = c.boot.ci()
    unid = c.unidentified()
    rows = [f"| {p} | {_fmt_ci(v, ci[p])} |" if p not in unid else
            f"| {p} | not identified ({v:.4g} fitted; its 95% interval runs to the law's bound) |"
            for p, v in c.fit.params.items()]
    lines = [f"### {label(c)}", "",
             f"{len(c.n)} runs, {np.unique(c.n).size} sizes ({c.n.min():.3g}-{c.n.max():.3g}); metric `{c.metric}`; "
             f"sizes in units of {c.fit.scales[0]:.4g} parameters.", "", noise_line(c), "",
             *([f"Tuned per size (analysis.study.TUNED): {'; '.join(c.choices)}.", ""] if c.choices else []),
             f"Law `{c.fit.law.formula}`: RMSE {c.fit.rmse:.4g}, AIC {c.fit.aic:.1f} "
             f"(pure power law `{c.power.law.formula}`: RMSE {c.power.rmse:.4g}, AIC {c.power.aic:.1f}; "
             f"{'the ceiling law fits better' if c.fit.aic < c.power.aic else 'the pure power law fits as well or better'}).",
             "", "| parameter | estimate [95% CI] |", "|---|---|", *rows, "",
             f"Saturation (one more doubling gains < {c.sat.frac:.0%} of R0): {c.sat.describe()}.", ""]
    if c.extrapolation is not None:
        e = c.extrapolation
        lines += [f"Extrapolation check: fitted without the largest size, predicted {np.mean(e.predicted):.4f} "
                  f"vs observed {np.mean(e.observed):.4f} (relative error {e.rel_error:.1%}).", ""]
    lines += [f"![{c.axis}](figures/{c.axis}.png)", ""]
    return "\n".join(lines)


LISTED = 60   # runs drawn and tabled one by one; a larger study lists its best LISTED (the rest in runs.csv)


def listed(df: pd.DataFrame, metric: str) -> pd.DataFrame:
    """The runs shown one by one: all of them, or the best LISTED by `metric` (a 10,000-run study's bar chart
    and table of every run were most of its report's time, and unreadable)."""
    return df if len(df) <= LISTED else df.nlargest(LISTED, metric)


def write_report(results: str | Path, out: str | Path, metric: str = "test/recall@10", n_boot: int = 1000) -> Path:
    from analysis.load import load_results

    df = load_results(results)
    table = df.attrs.get("kind") == "table"
    if table:
        metric = "metric"
    out = Path(out)
    (out / "figures").mkdir(parents=True, exist_ok=True)
    curves, comp, notes = study(df, metric, n_boot)
    what = "rows of a results table" if table else "finished runs"
    noise = ("weighted fits with hierarchical bootstrap intervals over seeds and evaluation users "
             f"({n_boot} resamples, percentile)" if curves and all(c.noise == "users+seeds" for c in curves) else
             f"bootstrap over runs ({n_boot} resamples, BCa){'; over users too where a curve says so' if curves else ''}")
    parts = ["# gr-scaling report", "", f"Results: `{results}` — {len(df)} {what}. Metric: `{metric}`. "
             f"Intervals: {noise}.", ""]
    skipped = df.attrs.get("skipped", [])
    if skipped:
        parts += [f"## Skipped records ({len(skipped)})", "", "These run records could not be read and are left out "
                  "(nothing was changed in them):", "", *[f"- {s}" for s in skipped], ""]
    for c in curves:
        plot_scaling([{"n": c.n, "y": c.y, "boot": c.boot, "label": c.axis, "sat": c.sat, "lo": c.lo, "hi": c.hi}],
                     label(c), metric, f"{metric} vs {c.axis} size", out / "figures" / c.axis)
        parts.append(curve_table(c))
    if comp is not None:
        sid, llm = comparison_curves({c.axis: c for c in curves})
        plot_scaling([{"n": sid.n, "y": sid.y, "boot": sid.boot, "label": f"SID-GR ({sid.x})", "lo": sid.lo, "hi": sid.hi,
                       "sat": sid.sat},
                      {"n": llm.n, "y": llm.y, "boot": llm.boot, "label": f"LLM-as-RS ({llm.x})", "lo": llm.lo,
                       "hi": llm.hi, "sat": llm.sat}],
                     "parameters", metric, "SID-GR vs LLM-as-RS", out / "figures" / "comparison")
        unid = [f"{c.axis} {p}" for c in (sid, llm) for p in c.unidentified()]
        if "R0" in sid.unidentified():
            text = (f"SID-GR's ceiling ({label(sid)}) is not identified by these runs (fitted {comp.sid_r0:.4g}; its "
                    f"interval runs to the law's bound), so no relative improvement over it or crossing size is stated; "
                    f"LLM-as-RS ({label(llm)}) at its largest size ({comp.llm_largest_size:.3g}) is "
                    f"{comp.llm_at_largest:.4f}. The paired difference of the two paradigms' best runs on shared users is "
                    "under 'Paired comparisons'.")
        else:
            text = (f"SID-GR ({label(sid)}) ceiling R0 = {_fmt_ci(comp.sid_r0, comp.sid_r0_ci)}; LLM-as-RS "
                    f"({label(llm)}) at its largest size ({comp.llm_largest_size:.3g}) = {comp.llm_at_largest:.4f}: "
                    f"relative improvement {_fmt_ci(comp.rel_improvement, comp.rel_improvement_ci)}; LLM-as-RS passes the "
                    f"SID-GR ceiling at {comp.overtake_size:.3g} parameters (95% CI {comp.overtake_ci[0]:.3g}-"
                    f"{comp.overtake_ci[1]:.3g}).")
        parts += ["## SID-GR vs LLM-as-RS", "", text,
                  *([f"Not identified: {', '.join(unid)} (pinned at, or with intervals running to, a bound), so the "
                     "curves' ceilings and any crossing are not determined by these runs."] if unid else []),
                  "", "![comparison](figures/comparison.png)", ""]
    if not table:
        parts += paired_section(df, curves, metric)
        from analysis.capped import capped_section

        parts += capped_section(df, metric)
        from analysis.sid_llm import sid_llm_section

        parts += sid_llm_section(df, metric)
        from analysis.joint import joint_section

        parts += joint_section(df, metric, min(n_boot, 300))
        from analysis.cold import cold_section

        parts += cold_section(df, metric)
        from analysis.limits import limits_section

        parts += limits_section(df, metric)
        parts += frontier_section(df, metric, out)
        parts += reference_section(df, metric)
        parts += training_section(results, df, out)
    if notes:
        parts += ["## Not fitted", "", *[f"- {n}" for n in notes], ""]
    fits = {c.axis: {"runs": len(c.n), "sizes": int(np.unique(c.n).size), "law": c.fit.law.formula,
                     **{k: float(v) for k, v in c.fit.params.items()}, "at_bounds": list(c.fit.at_bounds),
                     "unidentified": c.unidentified(), "ci": {k: list(v) for k, v in c.boot.ci().items()},
                     "intervals_over": c.noise,
                     "saturation": c.sat.describe()} for c in curves}
    (out / "fits.json").write_text(json.dumps(fits, indent=1))
    if len(df) > LISTED:   # every run stays in runs.csv; the figure and the table show the best LISTED
        df.to_csv(out / "runs.csv", index=False)
    if len(df) and metric in df and not table:
        runs = listed(df, metric).sort_values(["paradigm", "n_llm"] if "n_llm" in df else ["paradigm"])
        pop = f"{metric.split('/')[0]}/popular/{metric.split('/', 1)[1]}"
        base = runs[pop].astype(float).tolist() if pop in runs else None
        lo, hi = (runs[f"{metric}.{e}"].astype(float).tolist() if f"{metric}.{e}" in runs else None for e in ("lo", "hi"))
        title = "every run" if len(runs) == len(df) else f"the best {len(runs)} of {len(df)} runs"
        plot_runs([run_label(r) for _, r in runs.iterrows()], runs["paradigm"].tolist(), runs[metric].tolist(),
                  base, metric, out / "figures" / "runs", lo, hi, title=title)
        parts += ["## Every run" if len(runs) == len(df) else f"## The best {len(runs)} of {len(df)} runs", "",
                  "Each finished run's metric" + (" beside most-popular on the same users (black tick)."
                                                  if base is not None else ".")
                  + ("" if len(runs) == len(df) else " Every run is in `runs.csv` beside this report."), "",
                  "![runs](figures/runs.png)", ""]
    cols = [c for c in ("group", "size", "seed", "metric")] if table else [c for c in ("paradigm", "model.preset", "encoder.name", "tokenizer.kind", "tokenizer.levels",
                        "tokenizer.width", "sasrec.preset", "llm.name", "llm.finetune", "llm.lora_r", "llm.probe",
                        "llm.item_repr", "seed", "n_rs_non_embedding", "n_id_non_embedding", "n_llm", "n_qt",
                        "n_trainable", metric) if c in df]
    shown = listed(df, metric) if metric in df else df.head(LISTED)
    if not table:
        shown = unread_blank(shown)
    if not table and f"{metric}.lo" in shown:
        shown = shown.assign(**{"95% CI (users)": [f"[{lo:.4f}, {hi:.4f}]" if np.isfinite(lo) else "" for lo, hi in
                                                   zip(shown[f"{metric}.lo"].astype(float),
                                                       shown[f"{metric}.hi"].astype(float))],
                                "users": shown.get(f"{metric.split('/')[0]}/n_users")})
        cols += ["95% CI (users)", "users"]
    head = "## Runs" if len(shown) == len(df) else f"## Runs (the best {len(shown)} of {len(df)}; all in `runs.csv`)"
    parts += [head, "", _markdown_table(shown[cols]) if cols else "(none)", ""]
    md = "\n".join(parts)
    (out / "report.md").write_text(md)
    (out / "report.html").write_text(_html(md))
    return out / "report.md"


def unread_blank(df: pd.DataFrame) -> pd.DataFrame:
    """The runs with every config cell of a section their paradigm does not read left empty: a SASRec row shows no
    SID-GR preset or encoder (its config carries their defaults, unread and unhashed)."""
    from scaling.paradigms import PARADIGMS

    own = {"model", "encoder", "tokenizer", "llm", "sasrec"}   # the sections one paradigm reads and another not
    cells = [c for c in df.columns if "." in c and "/" not in c and c.split(".", 1)[0] in own]
    df = df.astype({c: object for c in cells})
    for i, r in df.iterrows():
        par = PARADIGMS.get(str(r.get("paradigm")))
        if par is None:
            continue
        reads = set(par.sections) | set(par.more_sections({"llm": {"item_repr": r.get("llm.item_repr")}}))
        df.loc[i, [c for c in cells if c.split(".", 1)[0] not in reads]] = ""
    return df.copy()   # consolidated: the astype above leaves one block per column (pandas' PerformanceWarning)


def neighbours(head: str, ids: list, rows: dict, x: str, pair) -> list[str]:
    """One ladder's neighbouring sizes paired (runs without outcomes left out), under its heading."""
    order = sorted((i for i in ids if i in rows), key=lambda i: float(rows[i][x]))
    if len(order) < 2:
        return []
    return [head, *(pair(rows[a], rows[b], f"{float(rows[a][x]):.3g}", f"{float(rows[b][x]):.3g}")
                    for a, b in zip(order, order[1:])), ""]


def paired_section(df: pd.DataFrame, curves: list[Curve], metric: str) -> list[str]:
    """Paired differences on shared evaluation users: neighbouring sizes of each fitted curve, and the best run
    of each paradigm against each other and against most-popular."""
    from analysis.outcomes import USER_KEYS, compare_runs, paired_diff, paired_values, read_outcomes

    if "/" not in metric or "path" not in df:
        return []
    which, name = metric.split("/", 1)
    if "popular/" in name:
        return []
    has = with_outcomes(df)
    if has.empty:
        return ["## Paired comparisons", "", "None: these records have no per-user outcomes.", ""]
    rows = {r["run_id"]: r for _, r in has.iterrows()}
    lines = ["## Paired comparisons", "",
             f"Differences of `{metric}` on the users both runs were scored on, with a 95% paired bootstrap interval; "
             "'not distinguishable' where it covers 0.", ""]

    def pair(a, b, la, lb):
        try:
            p = compare_runs(a["path"], b["path"], name, which, a.to_dict(), b.to_dict())
        except Exception as e:   # noqa: BLE001 - a pair that cannot be compared is said, not fatal
            return f"- {lb} vs {la}: not paired ({str(e).splitlines()[0]})"
        return f"- {lb} vs {la}: {p.describe()}"

    for c in curves:
        if c.noise != "users+seeds":   # a curve fitted without per-user outcomes has none to pair
            continue
        lines += neighbours(f"{label(c)}, neighbouring sizes:", c.runs, rows, c.x, pair)
        for keys, ids in c.others:   # the axis's other ladders (e.g. the second LLM's LoRA ranks): paired, not fitted
            lines += neighbours(f"{label(c)}, neighbouring sizes, another ladder ({keys}; not fitted):", ids, rows,
                                c.x, pair)
    best = best_runs(has, metric)
    from analysis.capped import cap_state

    def named(r) -> str:   # a best run that its step cap ended while still improving says so where it is compared
        return run_label(r) + ("; still improving at its step cap" if cap_state(r) == "rising" else "")

    for par, r in best.items():
        try:
            o = read_outcomes(r["path"])
            va, vb = paired_values(o, o, name, which, popular_a=True)
            d, ci = paired_diff(va, vb)
            verdict = "not distinguishable" if ci[0] <= 0 <= ci[1] else "distinguishable"
            lines.append(f"- best {par} run ({named(r)}) vs most-popular: {d:+.4f} [{ci[0]:+.4f}, {ci[1]:+.4f}] "
                         f"on {len(va)} users: {verdict}")
        except Exception:   # noqa: BLE001
            pass
    from scaling.paradigms import PARADIGMS

    for a, b in (("sidgr", "llmrs"), ("sasrec", "sidgr"), ("sasrec", "llmrs")):   # best vs best, ID baseline first
        if not {a, b} <= set(best):
            continue
        ta, tb = PARADIGMS[a].title, PARADIGMS[b].title
        same = all(str(best[a].get(k)) == str(best[b].get(k)) for k in USER_KEYS)
        lines.append(pair(best[a], best[b], f"best {ta} ({named(best[a])})", f"best {tb} ({named(best[b])})")
                     if same else f"- best {tb} vs best {ta}: not paired (their data settings select different users)")
    return lines + [""]


def reference_section(df: pd.DataFrame, metric: str) -> list[str]:
    """SID-GR runs on a whole dataset beside the published figures with their settings (analysis.references)."""
    from analysis.references import beside_references, describe

    name = metric.split("/")[-1]
    if not metric.startswith("test/") or name not in ("recall@5", "recall@10", "ndcg@5", "ndcg@10"):
        return []
    table = beside_references(df, name)
    if table.empty:
        return []
    return ["## Published reference figures", "", "Runs on a whole dataset beside the published figures with their "
            "settings (GRID: 5 seeds, Flan-T5-XL embeddings of title, categories, description and price; "
            "`gr-scaling reference` lists them):", "", *[f"- {line}" for line in describe(table, name)], ""]


def frontier_section(df: pd.DataFrame, metric: str, out: Path) -> list[str]:
    """Quality against training compute and against serving cost: each paradigm's Pareto frontier."""
    from analysis.frontier import COSTS, frontiers, serving_ratio, with_costs
    from analysis.plots import plot_frontier

    t = with_costs(df)
    lines = []
    for cost in ("train_flops_total", "serving.decode_flops_per_user", "serving.seconds_per_user"):
        fr = frontiers(t, cost, metric)
        if not fr:
            continue
        slug = cost.replace("serving.", "").replace(".", "_")
        plot_frontier(t, cost, metric, fr, COSTS[cost], out / "figures" / f"frontier-{slug}")
        lines += [f"### {metric} vs {COSTS[cost]}", "", f"![frontier](figures/frontier-{slug}.png)", "",
                  "| paradigm | device | frontier run | cost | " + metric + " |", "|---|---|---|---|---|"]
        for f in fr:
            lines += [f"| {f.paradigm} | {f.device_kind} | {run_label(r)} | {float(r[cost]):.3g} | {float(r[metric]):.4f} |"
                      for _, r in f.runs.iterrows()]
        lines.append("")
    for r in serving_ratio(t):
        lines.append(f"Serving cost, LLM-as-RS over SID-GR on {r['device_kind']} (threads {r['threads']}): "
                     f"{r['flops_ratio']:.3g}x decode FLOPs per user, {r['seconds_ratio']:.3g}x measured seconds per user "
                     f"({r['llmrs_users_per_s']:.3g} vs {r['sidgr_users_per_s']:.3g} users/s; medians over each paradigm's runs).")
    if not lines:
        return []
    return ["## Cost-quality frontier", "", "Each paradigm's Pareto-optimal runs (no other run of it is as good for "
            "less): quality against estimated training FLOPs, decode FLOPs per user and measured decode seconds per "
            "user (measured seconds drawn per device kind, never mixed).", "", *lines, ""]


def training_section(results, df: pd.DataFrame, out: Path) -> list[str]:
    """Every ladder's runs while they trained (fitted or not: a ladder too short for a law is still worth looking
    at): loss and validation metric against examples seen, one line per size, the kept checkpoint marked."""
    from analysis.load import load_curves
    from analysis.study import AXES, axis_runs

    ladders = {axis: axis_runs(df, axis) for axis in AXES}
    ladders = {a: r for a, r in ladders.items() if not r.empty and AXES[a][1] in r}
    ids = set().union(*(set(r["run_id"]) for r in ladders.values())) if ladders else set()
    if not ids:
        return []
    trained = load_curves(results, warn=lambda *_: None, runs=df[df["run_id"].isin(ids)])   # the ladders' runs only
    if trained.empty:
        return []
    parts = []
    for axis, rows in ladders.items():
        x = AXES[axis][1]
        rows = rows[rows["run_id"].isin(set(trained["run_id"]))].sort_values(x)
        if rows.empty:
            continue
        valid = next((str(v) for v in rows.get("train.select_metric", pd.Series(dtype=str)).dropna().unique()),
                     "ndcg@10")
        runs = [(r["run_id"], f"{run_label(r)} ({float(r[x]):.3g})") for _, r in rows.iterrows()]
        plot_training(trained, runs, valid, trained.attrs.get("best_step", {}), f"{axis}: training curves",
                      out / "figures" / f"training-{axis}")
        has_loss = (trained["run_id"].isin(rows["run_id"]) & (trained["metric"] == "train/loss")).any()
        what = "training loss and validation" if has_loss else "validation (these records predate the loss log)"
        parts += [f"The {axis} ladder ({what} {valid} against examples seen; the kept checkpoint marked):", "",
                  f"![training {axis}](figures/training-{axis}.png)", ""]
    return ["## Training curves", "", *parts] if parts else []


def _markdown_table(df: pd.DataFrame) -> str:
    head = "| " + " | ".join(df.columns) + " |\n|" + "---|" * len(df.columns)
    body = ["| " + " | ".join(f"{v:.4g}" if isinstance(v, float) else str(v) for v in r) + " |"
            for r in df.itertuples(index=False)]
    return "\n".join([head, *body])


def _html(md: str) -> str:
    """The report's Markdown as an HTML page (python-markdown with its tables extension: inline code, bold, lists
    and tables render as they do on a Markdown viewer)."""
    import markdown

    body = markdown.markdown(md, extensions=["tables"])
    return ("<html><head><meta charset='utf-8'><style>body{font-family:sans-serif;max-width:900px} "
            "table{border-collapse:collapse} td,th{border:1px solid #999;padding:3px} img{width:560px}</style>"
            "</head><body>" + body + "</body></html>")
