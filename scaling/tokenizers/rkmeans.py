"""Residual K-Means: k-means on the embeddings, then on the residuals, L times (GRID's RK-Means)."""
from __future__ import annotations

import numpy as np
from sklearn.cluster import KMeans


def fit_codebooks(x: np.ndarray, levels: int, width: int, seed: int) -> list[np.ndarray]:
    codebooks, residual = [], x.astype(np.float32, copy=True)
    for level in range(levels):
        km = KMeans(n_clusters=width, n_init=1, max_iter=100, random_state=seed + level).fit(residual)
        c = km.cluster_centers_.astype(np.float32)
        residual -= c[km.labels_]
        codebooks.append(c)
    return codebooks


def assign(x: np.ndarray, codebooks: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Greedy residual assignment: codes (n, L) and the reconstruction (n, D)."""
    residual = x.astype(np.float32, copy=True)
    codes = np.zeros((len(x), len(codebooks)), dtype=np.int64)
    for level, c in enumerate(codebooks):
        d = (residual ** 2).sum(1, keepdims=True) - 2 * residual @ c.T + (c ** 2).sum(1)
        codes[:, level] = d.argmin(1)
        residual -= c[codes[:, level]]
    return codes, x - residual


def fit(x: np.ndarray, levels: int, width: int, seed: int, **_) -> tuple[np.ndarray, np.ndarray, int]:
    codebooks = fit_codebooks(x, levels, width, seed)
    codes, recon = assign(x, codebooks)
    return codes, recon, levels * width * x.shape[1]
