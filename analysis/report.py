"""The study report: Markdown (and HTML) with the figures, fitted laws and their intervals."""
from __future__ import annotations

import html
import json
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.load import run_label
from analysis.plots import plot_runs, plot_scaling
from analysis.study import Curve, comparison_curves, study

LABELS_BY_AXIS = {"recommender": "SID-GR recommender (non-embedding params)", "encoder": "SID-GR text encoder params",
          "tokenizer": "SID-GR tokenizer params", "llm": "LLM-as-RS LLM params",
          "lora": "LLM-as-RS trainable (LoRA) params"}


def label(c: Curve) -> str:
    return LABELS_BY_AXIS.get(c.axis, f"group '{c.axis}' ({c.x})")


def _fmt_ci(v, ci):
    return f"{v:.4g} [{ci[0]:.4g}, {ci[1]:.4g}]"


def curve_table(c: Curve) -> str:
    ci = c.boot.ci()
    rows = [f"| {p} | {_fmt_ci(v, ci[p])} |" for p, v in c.fit.params.items()]
    lines = [f"### {label(c)}", "",
             f"{len(c.n)} runs, {np.unique(c.n).size} sizes ({c.n.min():.3g}-{c.n.max():.3g}); metric `{c.metric}`; "
             f"sizes in units of {c.fit.scales[0]:.4g} parameters.", "",
             f"Law `{c.fit.law.formula}`: RMSE {c.fit.rmse:.4g}, AIC {c.fit.aic:.1f} "
             f"(pure power law `{c.power.law.formula}`: RMSE {c.power.rmse:.4g}, AIC {c.power.aic:.1f}; "
             f"{'the ceiling law fits better' if c.fit.aic < c.power.aic else 'the pure power law fits as well or better'}).",
             "", "| parameter | estimate [95% CI] |", "|---|---|", *rows, "",
             *([f"Parameters at a bound (not identified by these runs): {', '.join(c.fit.at_bounds)}.", ""]
               if c.fit.at_bounds else []),
             f"Saturation (one more doubling gains < {c.sat.frac:.0%} of R0): {c.sat.describe()}.", ""]
    if c.extrapolation is not None:
        e = c.extrapolation
        lines += [f"Extrapolation check: fitted without the largest size, predicted {np.mean(e.predicted):.4f} "
                  f"vs observed {np.mean(e.observed):.4f} (relative error {e.rel_error:.1%}).", ""]
    lines += [f"![{c.axis}](figures/{c.axis}.png)", ""]
    return "\n".join(lines)


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
    parts = ["# gr-scaling report", "", f"Results: `{results}` — {len(df)} {what}. Metric: `{metric}`. "
             f"Intervals: bootstrap over runs ({n_boot} resamples, BCa).", ""]
    skipped = df.attrs.get("skipped", [])
    if skipped:
        parts += [f"## Skipped records ({len(skipped)})", "", "These run records could not be read and are left out "
                  "(nothing was changed in them):", "", *[f"- {s}" for s in skipped], ""]
    for c in curves:
        plot_scaling([{"n": c.n, "y": c.y, "boot": c.boot, "label": c.axis, "sat": c.sat}],
                     label(c), metric, f"{metric} vs {c.axis} size", out / "figures" / c.axis)
        parts.append(curve_table(c))
    if comp is not None:
        sid, llm = comparison_curves({c.axis: c for c in curves})
        plot_scaling([{"n": sid.n, "y": sid.y, "boot": sid.boot, "label": f"SID-GR ({sid.x})"},
                      {"n": llm.n, "y": llm.y, "boot": llm.boot, "label": f"LLM-as-RS ({llm.x})"}],
                     "parameters", metric, "SID-GR vs LLM-as-RS", out / "figures" / "comparison")
        parts += ["## SID-GR vs LLM-as-RS", "",
                  f"SID-GR ({label(sid)}) ceiling R0 = {_fmt_ci(comp.sid_r0, comp.sid_r0_ci)}; LLM-as-RS "
                  f"({label(llm)}) at its largest size "
                  f"({comp.llm_largest_size:.3g}) = {comp.llm_at_largest:.4f}: relative improvement "
                  f"{_fmt_ci(comp.rel_improvement, comp.rel_improvement_ci)}; LLM-as-RS passes the SID-GR ceiling at "
                  f"{comp.overtake_size:.3g} parameters (95% CI {comp.overtake_ci[0]:.3g}-{comp.overtake_ci[1]:.3g}).",
                  *([f"Not identified: {', '.join(f'{c.axis} {p}' for c in (sid, llm) for p in c.fit.at_bounds)} "
                     "sit at a bound of the fit, so the ceiling and crossing above are not determined by these runs."]
                    if sid.fit.at_bounds or llm.fit.at_bounds else []),
                  "", "![comparison](figures/comparison.png)", ""]
    if notes:
        parts += ["## Not fitted", "", *[f"- {n}" for n in notes], ""]
    fits = {c.axis: {"runs": len(c.n), "sizes": int(np.unique(c.n).size), "law": c.fit.law.formula,
                     **{k: float(v) for k, v in c.fit.params.items()}, "at_bounds": list(c.fit.at_bounds),
                     "saturation": c.sat.describe()} for c in curves}
    (out / "fits.json").write_text(json.dumps(fits, indent=1))
    if len(df) and metric in df and not table:
        runs = df.sort_values(["paradigm", "n_llm"] if "n_llm" in df else ["paradigm"])
        pop = f"{metric.split('/')[0]}/popular/{metric.split('/', 1)[1]}"
        base = runs[pop].astype(float).tolist() if pop in runs else None
        plot_runs([run_label(r) for _, r in runs.iterrows()], runs["paradigm"].tolist(), runs[metric].tolist(),
                  base, metric, out / "figures" / "runs")
        parts += ["## Every run", "", "Each finished run's metric"
                  + (" beside most-popular on the same users (black tick)." if base is not None else "."), "",
                  "![runs](figures/runs.png)", ""]
    cols = [c for c in ("group", "size", "seed", "metric")] if table else [c for c in ("paradigm", "model.preset", "encoder.name", "tokenizer.kind", "tokenizer.levels",
                        "tokenizer.width", "llm.name", "llm.finetune", "llm.lora_r", "llm.probe", "seed",
                        "n_rs_non_embedding", "n_llm", "n_qt", "n_trainable", metric) if c in df]
    parts += ["## Runs", "", _markdown_table(df[cols]) if cols else "(none)", ""]
    md = "\n".join(parts)
    (out / "report.md").write_text(md)
    (out / "report.html").write_text(_html(md))
    return out / "report.md"


def _markdown_table(df: pd.DataFrame) -> str:
    head = "| " + " | ".join(df.columns) + " |\n|" + "---|" * len(df.columns)
    body = ["| " + " | ".join(f"{v:.4g}" if isinstance(v, float) else str(v) for v in r) + " |"
            for r in df.itertuples(index=False)]
    return "\n".join([head, *body])


def _html(md: str) -> str:
    """Minimal Markdown -> HTML (headings, images, tables, paragraphs) so the report opens in a browser
    without another dependency."""
    out, table = [], []
    for line in md.splitlines() + [""]:
        if line.startswith("|"):
            if not set(line) <= set("|-"):
                table.append("<tr>" + "".join(f"<td>{html.escape(c.strip())}</td>" for c in line.strip("|").split("|")) + "</tr>")
            continue
        if table:
            out.append("<table border=1 cellpadding=3>" + "".join(table) + "</table>")
            table = []
        if line.startswith("#"):
            level = len(line) - len(line.lstrip("#"))
            out.append(f"<h{level}>{html.escape(line.lstrip('# '))}</h{level}>")
        elif line.startswith("!["):
            src = line[line.index("(") + 1:-1]
            out.append(f'<img src="{html.escape(src)}" width="560">')
        elif line.startswith("- "):
            out.append(f"<li>{html.escape(line[2:])}</li>")
        elif line:
            out.append(f"<p>{html.escape(line)}</p>")
    return "<html><body style='font-family:sans-serif;max-width:900px'>" + "\n".join(out) + "</body></html>"
