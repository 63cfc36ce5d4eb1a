"""Per-user outcomes (a run record's outcomes.npz: each evaluation user's index and the 0-based rank of its
target, = beam size when not recommended): any Recall@k / NDCG@k for k <= the beam, its 95% interval over
users, and paired comparisons of two runs on the users both were scored on.

Reads the file with numpy alone (analysis never imports training code).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.stats import norm

from analysis.errors import AnalysisError

Z95 = float(norm.ppf(0.975))
# Config keys that decide which users exist and their indices: runs agreeing on these share user ids.
USER_KEYS = ("data.dataset", "data.max_users", "data.max_items", "data.min_sequence", "data.subset_seed")


def read_outcomes(path: str | Path) -> dict[str, dict[str, np.ndarray]]:
    """{set: {"user", "rank", "popular_rank"}} from a run directory or its outcomes.npz."""
    p = Path(path)
    p = p / "outcomes.npz" if p.is_dir() else p
    out: dict = {}
    try:
        with np.load(p, allow_pickle=False) as z:
            for key in z.files:
                s, k = key.split("/", 1)
                out.setdefault(s, {})[k] = z[key]
    except (OSError, ValueError, EOFError) as e:   # missing, truncated or not an npz
        raise AnalysisError(f"{p}: per-user outcomes unreadable ({type(e).__name__})") from None
    return out


def per_user(rank: np.ndarray, metric: str) -> np.ndarray:
    """Per-user values of 'recall@k' or 'ndcg@k' (the mean over users is the metric)."""
    name, _, k = metric.rpartition("@")
    if name not in ("recall", "ndcg") or not k.isdigit():
        raise AnalysisError(f"metric '{metric}': per-user values exist for recall@k and ndcg@k")
    rank, k = np.asarray(rank, float), int(k)
    hit = rank < k
    return hit.astype(float) if name == "recall" else np.where(hit, 1.0 / np.log2(rank + 2), 0.0)


def wilson(hits: float, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval of a proportion (good at 0 and few hits, where the normal one fails)."""
    if n <= 0:
        return (np.nan, np.nan)
    p = hits / n
    den = 1 + z * z / n
    mid = (p + z * z / (2 * n)) / den
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    # exactly 0 (1) with no (every) hit: mid - half is 0 there only up to rounding (+1e-19 put the bound above the mean)
    return (0.0 if hits <= 0 else max(0.0, mid - half), 1.0 if hits >= n else min(1.0, mid + half))


def user_interval(values: np.ndarray, z: float = Z95) -> tuple[float, float]:
    """95% interval of a mean over users: Wilson for 0/1 values (Recall@k); for graded values (NDCG@k) the
    Wilson interval of the hit rate scaled by the mean gain of a hit (1 when nobody was hit), which keeps the
    interval honest at zero and few hits, where a normal or bootstrap interval collapses to a point."""
    v = np.asarray(values, float)
    n, hits = len(v), int((v > 0).sum())
    lo, hi = wilson(hits, n, z)
    if np.all((v == 0) | (v == 1)):
        return lo, hi
    gain = float(v[v > 0].mean()) if hits else 1.0
    return lo * gain, hi * gain


@dataclass
class Paired:
    a: str
    b: str
    metric: str
    n_users: int              # users both runs were scored on
    mean_a: float
    mean_b: float
    diff: float               # mean_b - mean_a over the shared users
    ci: tuple[float, float]   # 95% paired bootstrap interval of diff

    @property
    def distinguishable(self) -> bool:
        return not (self.ci[0] <= 0 <= self.ci[1])

    def describe(self) -> str:
        verdict = "distinguishable" if self.distinguishable else "not distinguishable"
        return (f"{self.metric}: {self.mean_b:.4f} vs {self.mean_a:.4f}, difference {self.diff:+.4f} "
                f"[{self.ci[0]:+.4f}, {self.ci[1]:+.4f}] on {self.n_users} shared users: {verdict}")


def paired_values(oa: dict, ob: dict, metric: str, which: str = "test", popular_a: bool = False):
    """Per-user values of two outcome sets on their shared users (matched by user index)."""
    a, b = oa.get(which), ob.get(which)
    if a is None or b is None:
        raise AnalysisError(f"no '{which}' outcomes in one of the runs")
    ua, ia, ib = np.intersect1d(a["user"], b["user"], return_indices=True)
    ra = a["popular_rank"][ia] if popular_a else a["rank"][ia]
    return per_user(ra, metric), per_user(b["rank"][ib], metric)


def paired_diff(va: np.ndarray, vb: np.ndarray, n_boot: int = 2000, seed: int = 0) -> tuple[float, tuple[float, float]]:
    """Mean of vb - va and its 95% percentile bootstrap interval over users (resampled in pairs)."""
    d = np.asarray(vb, float) - np.asarray(va, float)
    if len(d) == 0:
        raise AnalysisError("the two runs share no evaluation users")
    rng = np.random.default_rng(seed)
    counts = rng.multinomial(len(d), np.full(len(d), 1 / len(d)), size=n_boot)
    means = counts @ d / len(d)
    lo, hi = np.quantile(means, [0.025, 0.975])
    return float(d.mean()), (float(lo), float(hi))


def compare_runs(path_a, path_b, metric: str = "recall@10", which: str = "test", config_a: dict | None = None,
                 config_b: dict | None = None, n_boot: int = 2000) -> Paired:
    """Run b against run a on the users both were scored on. `config_*` (flat config rows) are checked for
    the keys that decide user ids, when given: runs on different user sets cannot be paired."""
    if config_a is not None and config_b is not None:
        diff = [k for k in USER_KEYS if str(config_a.get(k)) != str(config_b.get(k))]
        if diff:
            raise AnalysisError(f"{path_a} and {path_b} were evaluated on different user sets ({', '.join(diff)} differ)")
    va, vb = paired_values(read_outcomes(path_a), read_outcomes(path_b), metric, which)
    d, ci = paired_diff(va, vb, n_boot)
    return Paired(str(path_a), str(path_b), f"{which}/{metric}", len(va), float(va.mean()), float(vb.mean()), d, ci)


def user_resampler(values: list[np.ndarray]):
    """For a hierarchical bootstrap: a function rng -> one resampled metric per run, each the mean over a
    with-replacement draw of that run's own evaluation users (`values[i]`: run i's per-user values)."""
    def draw(rng: np.random.Generator) -> np.ndarray:
        return np.array([v[rng.integers(0, len(v), len(v))].mean() for v in values])
    return draw


def user_noise(values: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per run (`values[i]`: run i's per-user metric values): its metric, its 95% interval over users, and the
    standard error that interval implies (the weight of a fit to these runs)."""
    y = np.array([v.mean() for v in values])
    lo, hi = np.array([user_interval(v) for v in values]).T
    return y, lo, hi, np.maximum((hi - lo) / (2 * Z95), 1e-6)


def fit_with_user_noise(law: str, n: np.ndarray, values: list[np.ndarray], n_boot: int = 1000, seed: int = 0):
    """A law fitted to runs whose per-user values are known (`values[i]`: run i's per-user metric values; the
    run's metric is their mean): weighted by each point's sampling error over users, with a hierarchical
    bootstrap (seeds within each size, users within each run). Returns (fit, bootstrap, sigma, lo, hi)."""
    from analysis.bootstrap import bootstrap
    from analysis.fit import fit_arrays

    n = np.asarray(n, float)
    y, lo, hi, sigma = user_noise(values)
    f = fit_arrays(law, [n], y, sigma=sigma)
    b = bootstrap(f, [n], y, n=n_boot, seed=seed, method="hierarchical", draw_y=user_resampler(values), sigma=sigma)
    return f, b, sigma, lo, hi
