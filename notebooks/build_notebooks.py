"""Writes the two notebooks from the cells below (so they stay reviewable as code). Run:
    python notebooks/build_notebooks.py
The notebooks read the results directory in $GR_SCALING_RESULTS (default: notebooks/results/quick, a
small set of real runs committed with the repo; see notebooks/results/README.md)."""
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).parent
SETUP = """import os
from pathlib import Path
import analysis
RESULTS = Path(os.environ.get("GR_SCALING_RESULTS", "results/quick"))
FIGURES = Path(os.environ.get("GR_SCALING_FIGURES", "figures"))
FIGURES.mkdir(parents=True, exist_ok=True)
df = analysis.load_runs(RESULTS)
print(len(df), "finished runs")
df[[c for c in ("paradigm", "model.preset", "seed", "n_rs_non_embedding", "test/recall@10", "test/ndcg@10") if c in df]]"""

PLOTS = [
    new_markdown_cell("# Scaling plots\nMetric vs recommender size (log x) with the fitted saturating power law, "
                      "its 95% bootstrap band and the saturation point."),
    new_code_cell(SETUP),
    new_code_cell("""from analysis.plots import plot_scaling
curves = []
for metric in ("test/recall@10", "test/ndcg@10"):
    c = analysis.fit_curve(df, "recommender", metric=metric, n_boot=500)
    fig = plot_scaling([{"n": c.n, "y": c.y, "boot": c.boot, "label": "SID-GR", "sat": c.sat}],
                       "recommender non-embedding parameters", metric, f"{metric} vs recommender size",
                       FIGURES / f"recommender_{metric.split('/')[1].replace('@', '')}")   # also saved as PNG + PDF
    curves.append((c, fig))"""),
    new_code_cell("""curves[0][1]   # a Figure shows inline"""),
    new_markdown_cell("## The committed dense study\nThe study committed with the repo (`notebooks/results/dense-study`, "
                      "issue #26: SID-GR, LLM-as-RS and the SASRec ID baseline on the same 1,000 test users of Beauty's "
                      "dense core): each paradigm's best run with its interval over users, the paired best-vs-best "
                      "differences, and quality against measured serving seconds per user. The full tables and fits: "
                      "`gr-scaling report notebooks/results/dense-study`."),
    new_code_cell("""from analysis.load import best_runs, with_outcomes, without_probes
from analysis.outcomes import compare_runs
STUDY = Path(os.environ.get("GR_SCALING_STUDY", "results/dense-study"))
study_df = without_probes(with_outcomes(analysis.load_runs(STUDY)))
m = "test/recall@10"
best = best_runs(study_df, m)
for p, r in best.items():
    print(f"{p}: {len(study_df[study_df.paradigm == p])} runs; best {r['run_id']}: {m} {r[m]:.4f} "
          f"[{r[m + '.lo']:.4f}, {r[m + '.hi']:.4f}] on {int(r['test/n_users']):,} users")
for a, b in (("llmrs", "sidgr"), ("sasrec", "sidgr"), ("sasrec", "llmrs")):
    if a in best and b in best:
        print(f"best {b} vs best {a}:", compare_runs(best[a]["path"], best[b]["path"], "recall@10").describe())"""),
    new_code_cell("""from analysis.frontier import frontiers, with_costs
from analysis.plots import plot_frontier
t = with_costs(study_df)
cost = "serving.seconds_per_user"
plot_frontier(t, cost, m, frontiers(t, cost, m), "measured decode seconds per user", FIGURES / "dense-study-serving")"""),
]

FITS = [
    new_markdown_cell("# Saturation fits\nThe saturating law `R0 - A*N^-a` against a pure power law, bootstrap "
                      "intervals, the saturation size and a held-out extrapolation check."),
    new_code_cell(SETUP),
    new_code_cell("""c = analysis.fit_curve(df, "recommender", metric="test/recall@10", n_boot=1000)
ci = c.boot.ci()
for p, v in c.fit.params.items():
    print(f"{p:3s} = {v:.4g}  95% CI [{ci[p][0]:.4g}, {ci[p][1]:.4g}]")
print(f"saturating law: RMSE {c.fit.rmse:.4g} AIC {c.fit.aic:.1f}; pure power law: RMSE {c.power.rmse:.4g} AIC {c.power.aic:.1f}")
print(c.sat.describe())"""),
    new_code_cell("""import numpy as np
sizes = np.unique(c.n)
if sizes.size >= 4:
    ex = analysis.extrapolation_check("power_floor", c.n, c.y, hold_out=1)
    print(f"fit without the largest size, predict it: predicted {np.mean(ex.predicted):.4f}, observed {np.mean(ex.observed):.4f}, relative error {ex.rel_error:.1%}")
else:
    print("extrapolation check needs >= 4 sizes")"""),
    new_markdown_cell("## Cost-quality frontier\nEach paradigm's Pareto-optimal runs: quality against training "
                      "compute, and the best run within a budget read off the frontier."),
    new_code_cell("""from analysis.frontier import frontiers, with_costs
from analysis.plots import plot_frontier
t = with_costs(df)
fr = frontiers(t, "train_flops_total", "test/recall@10")
for f in fr:
    budget = float(f.runs["train_flops_total"].median())
    best = f.best_within(budget)
    print(f"{f.paradigm}: frontier runs {f.runs['run_id'].tolist()}; best within {budget:.3g} training FLOPs: "
          f"{best['run_id']} (test/recall@10 {best['test/recall@10']:.4f})")
if fr:
    plot_frontier(t, "train_flops_total", "test/recall@10", fr, "training compute (FLOPs)", FIGURES / "frontier")"""),
    new_code_cell("""from analysis.report import write_report
print(write_report(RESULTS, FIGURES / "report", n_boot=300))"""),
]


def main():
    for name, cells in (("scaling_plots", PLOTS), ("saturation_fits", FITS)):
        nb = new_notebook(cells=cells, metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                                "language": "python"}})
        nbformat.write(nb, HERE / f"{name}.ipynb")


if __name__ == "__main__":
    main()
