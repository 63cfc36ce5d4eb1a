"""matplotlib figures: metric vs size (log x) with the fitted curve, its 95% band and the saturation
marker; both paradigms on one axis; residuals. Each function returns its `Figure` (a notebook shows it inline) and,
given a path, also saves it as PNG and PDF. Figures are made without pyplot, so importing this module leaves the
matplotlib backend as the user has it (Jupyter's inline one included)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from analysis.bootstrap import Bootstrap
from analysis.saturation import Saturation


def _band(boot: Bootstrap, grid: np.ndarray, level: float = 0.95):
    xs = grid / boot.fit.scales[0]
    curves = np.array([boot.fit.law(t, xs) for t in boot.samples]) if len(boot.samples) else None
    if curves is None:
        return None
    return np.percentile(curves, [50 * (1 - level), 50 * (1 + level)], axis=0)


def plot_curve(ax, n, y, boot: Bootstrap, label: str, color: str, sat: Saturation | None = None,
               extend: float = 4.0, lo=None, hi=None):
    """`lo`/`hi`: each point's 95% interval over its evaluation users, drawn as error bars."""
    n, y = np.asarray(n, float), np.asarray(y, float)
    grid = np.logspace(np.log10(n.min()), np.log10(n.max() * extend), 200)
    ax.scatter(n, y, color=color, s=22, zorder=3, label=f"{label} runs" + (" (95% CI over users)" if lo is not None else ""))
    if lo is not None and hi is not None:
        # clipped at 0: an interval that holds its mean can sit a rounding error past it
        yerr = np.maximum([y - np.asarray(lo, float), np.asarray(hi, float) - y], 0.0)
        ax.errorbar(n, y, yerr=yerr, fmt="none", ecolor=color,
                    elinewidth=1, capsize=2, zorder=3)
    ax.plot(grid, boot.fit.predict(grid), color=color, lw=1.8,
            label=f"{label}: {boot.fit.law.formula.split('=')[1].strip()}")
    band = _band(boot, grid)
    if band is not None:
        ax.fill_between(grid, band[0], band[1], color=color, alpha=0.18, lw=0)
    law = boot.fit.law
    unidentified = set(boot.fit.at_bounds) | set(sat.unidentified if sat is not None else ())
    if law.ceiling and law.ceiling not in unidentified and boot.fit.params[law.ceiling] <= 2 * y.max():
        ax.axhline(boot.fit.params[law.ceiling], color=color, ls=":", lw=1, label=f"{label} ceiling R0")
    if sat is not None and not sat.unidentified and np.isfinite(sat.size) and sat.size <= grid.max():
        ax.axvline(sat.size, color=color, ls="--", lw=1)
        ax.annotate("saturation", (sat.size, 0.02), xycoords=("data", "axes fraction"), color=color, fontsize=8,
                    rotation=90, va="bottom", ha="right")
    ax.set_xscale("log")
    shown = np.concatenate([y, boot.fit.predict(grid)] + ([np.asarray(lo, float), np.asarray(hi, float)]
                                                           if lo is not None and hi is not None else []))
    return float(shown.min()), float(shown.max())


def _set_ylim(ax, ranges: list[tuple[float, float]]) -> None:
    """Limits that show every curve's runs and fitted line (not the whole of a wide bootstrap band), set
    once from all curves: per-curve limits could not hold two paradigms whose ranges do not overlap."""
    lo, hi = min(r[0] for r in ranges), max(r[1] for r in ranges)
    pad = 0.15 * (hi - lo + 1e-9)
    ax.set_ylim(lo - pad, hi + pad)


def save(fig: Figure, path: str | Path) -> list[Path]:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    out = [path.with_suffix(".png"), path.with_suffix(".pdf")]
    for p in out:
        fig.savefig(p, dpi=140, bbox_inches="tight")
    return out


def _done(fig: Figure, path: str | Path | None) -> Figure:
    if path is not None:
        save(fig, path)
    return fig


def plot_scaling(curves: list[dict], xlabel: str, ylabel: str, title: str, path: str | Path | None = None) -> Figure:
    """curves: dicts with n, y, boot, label, optional sat. One panel for the curves, one for residuals."""
    colors = ["tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple"]
    fig = Figure(figsize=(6.4, 6.0))
    ax, res = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [3, 1]})
    ranges = []
    for c, color in zip(curves, colors):
        ranges.append(plot_curve(ax, c["n"], c["y"], c["boot"], c["label"], color, c.get("sat"),
                                 lo=c.get("lo"), hi=c.get("hi")))
        res.scatter(c["n"], np.asarray(c["y"]) - c["boot"].fit.predict(np.asarray(c["n"], float)), color=color, s=14)
    _set_ylim(ax, ranges)
    res.axhline(0, color="k", lw=0.8)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(fontsize=7, loc="best")
    ax.grid(alpha=0.3, which="both")
    res.set_xscale("log")
    res.set_xlabel(xlabel)
    res.set_ylabel("residual")
    res.grid(alpha=0.3, which="both")
    return _done(fig, path)


COLORS = {"sidgr": "tab:blue", "llmrs": "tab:orange", "sasrec": "tab:green"}   # one colour per paradigm, every figure


def _title(paradigm: str) -> str:
    from scaling.paradigms import PARADIGMS

    return PARADIGMS[paradigm].title if paradigm in PARADIGMS else str(paradigm)


def plot_runs(labels: list[str], paradigms: list[str], values: list[float], baselines: list[float] | None,
              metric: str, path: str | Path | None = None, lo=None, hi=None, title: str = "every run") -> Figure:
    """Every run as a bar (grouped by paradigm, as given) with its own most-popular baseline (a black tick:
    runs may be scored on different users): what a study shows before any law is fitted, and all it can
    show where a ladder is too short to fit."""
    colors = COLORS
    fig = Figure(figsize=(6.4, 0.32 * len(labels) + 1.2))
    ax = fig.subplots()
    ys = np.arange(len(labels))[::-1]
    ax.barh(ys, values, color=[colors.get(p, "tab:gray") for p in paradigms])
    if lo is not None and hi is not None:   # each run's 95% interval over its evaluation users
        v, lo_, hi_ = (np.asarray(a, float) for a in (values, lo, hi))
        ok = np.isfinite(lo_) & np.isfinite(hi_)
        ax.errorbar(v[ok], ys[ok], xerr=np.maximum([v[ok] - lo_[ok], hi_[ok] - v[ok]], 0.0), fmt="none", ecolor="k",
                    elinewidth=0.8,
                    capsize=2, zorder=4, label="95% CI over users")
    ax.set_yticks(ys, [f"{_title(p)}: {lab}" for p, lab in zip(paradigms, labels)],
                  fontsize=7)
    if baselines is not None and np.isfinite(baselines).any():
        ax.scatter(baselines, ys, marker="|", s=220, color="tab:red", zorder=3, label="most popular (same users)")
    if (baselines is not None and np.isfinite(baselines).any()) or lo is not None:
        ax.legend(fontsize=7, loc="lower right")
    ax.set_xlabel(metric)
    ax.set_title(title)
    ax.grid(alpha=0.3, axis="x")
    return _done(fig, path)


def plot_frontier(df, cost: str, quality: str, fronts: list, xlabel: str, path: str | Path | None = None) -> Figure:
    """Every run's quality against a cost (log x), each paradigm's Pareto frontier as a step line; error bars
    from the per-run intervals over users where the records have them."""
    colors = COLORS
    names = {p: _title(p) for p in COLORS}
    fig = Figure(figsize=(6.4, 4.4))
    ax = fig.subplots()
    for f in fronts:
        g = df[(df["paradigm"] == f.paradigm) & np.isfinite(df[cost].astype(float))]
        if f.device_kind != "any":
            g = g[g[f"{cost}.device_kind"] == f.device_kind]
        color = colors.get(f.paradigm, "tab:gray")
        suffix = "" if f.device_kind == "any" else f" ({f.device_kind})"
        x, y = g[cost].to_numpy(float), g[quality].to_numpy(float)
        if f"{quality}.lo" in g and g[f"{quality}.lo"].notna().all():
            ax.errorbar(x, y, yerr=[y - g[f"{quality}.lo"].to_numpy(float), g[f"{quality}.hi"].to_numpy(float) - y],
                        fmt="none", ecolor=color, alpha=0.5, elinewidth=0.8, capsize=2)
        ax.scatter(x, y, color=color, s=18, alpha=0.6, label=f"{names.get(f.paradigm, f.paradigm)} runs{suffix}")
        fx, fy = f.runs[cost].to_numpy(float), f.runs[quality].to_numpy(float)
        ax.step(fx, fy, where="post", color=color, lw=1.6, label=f"{names.get(f.paradigm, f.paradigm)} frontier{suffix}")
        ax.scatter(fx, fy, color=color, s=40, edgecolor="k", zorder=4)
    ax.set_xscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(quality)
    ax.set_title(f"{quality} vs {xlabel}")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=7, loc="best")
    return _done(fig, path)


def plot_training(curves, runs: list[tuple[str, str]], valid_metric: str, best_steps: dict, title: str,
                  path: str | Path | None = None) -> Figure:
    """A curve's runs while they trained (from `analysis.load_curves`): training loss (where the records have it)
    and the validation metric against examples seen, one line per run (`runs`: (run_id, label), smallest size
    first), the kept checkpoint (`best_steps`) marked on the validation line."""
    panels = [m for m in ("train/loss", f"valid/{valid_metric}") if (curves["metric"] == m).any()]
    fig = Figure(figsize=(6.4, 2.6 * max(len(panels), 1) + 0.6))
    axes = np.atleast_1d(fig.subplots(max(len(panels), 1), 1, sharex=True))
    colors = [c for c in ("tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple", "tab:brown", "tab:pink",
                          "tab:gray", "tab:olive", "tab:cyan")]
    for ax, m in zip(axes, panels):
        for (run_id, lab), color in zip(runs, colors * 4):
            g = curves[(curves["run_id"] == run_id) & (curves["metric"] == m)].sort_values("step")
            if g.empty:
                continue
            ax.plot(g["examples"], g["value"], color=color, lw=1.3, label=lab)
            if m.startswith("valid/") and best_steps.get(run_id) is not None:
                b = g[g["step"] == best_steps[run_id]]
                if len(b):
                    ax.scatter(b["examples"], b["value"], color=color, s=36, edgecolor="k", zorder=4)
        ax.set_ylabel(m + (" (● kept)" if m.startswith("valid/") else ""))
        ax.grid(alpha=0.3)
    if panels:
        axes[0].legend(fontsize=7, loc="best")
        axes[0].set_title(title)
    axes[-1].set_xlabel("training examples seen")
    return _done(fig, path)
