"""Analysis of a results directory: runs -> DataFrame -> scaling-law fits with uncertainty ->
saturation, comparison, plots, report. Reads run directories only (never imports training code).

    df = analysis.load_runs("results/quickstart")
    f = analysis.fit(df, x="n_rs_non_embedding", y="test/recall@10", law="power_floor")
    b = analysis.bootstrap(f, [df.n_rs_non_embedding], df["test/recall@10"])
"""
from analysis.bootstrap import Bootstrap, bootstrap
from analysis.errors import AnalysisError
from analysis.fit import Fit, fit_arrays
from analysis.laws import LAWS, Law
from analysis.load import load_curves, load_results, load_runs
from analysis.saturation import compare, extrapolation_check, saturation
from analysis.study import fit_curve, study


def fit(df, x: str | list[str], y: str, law: str = "power_floor", **kw) -> Fit:
    """Fit `law` to columns of a runs table: x (one size column, or a list for multi-input laws), y."""
    xs = [x] if isinstance(x, str) else list(x)
    missing = [c for c in [*xs, y] if c not in df]
    if missing:
        raise AnalysisError(f"columns not in the runs table: {', '.join(missing)}")
    return fit_arrays(law, [df[c].to_numpy(float) for c in xs], df[y].to_numpy(float), **kw)


__all__ = ["Bootstrap", "bootstrap", "AnalysisError", "Fit", "fit", "fit_arrays", "LAWS", "Law", "load_curves", "load_results", "load_runs",
           "compare", "extrapolation_check", "saturation", "fit_curve", "study"]
