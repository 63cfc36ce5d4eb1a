"""Residual K-Means: k-means on the embeddings, then on the residuals, L times (GRID's RK-Means). With
`normalize`, each level's residuals are scaled to unit length before clustering (GRID normalises them at each
level to keep later levels from collapsing onto tiny residuals)."""
from __future__ import annotations

import numpy as np
from sklearn.cluster import KMeans


def _unit(r: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    norm = np.linalg.norm(r, axis=1, keepdims=True)
    return r / np.maximum(norm, 1e-12), norm


def fit_codebooks(x: np.ndarray, levels: int, width: int, seed: int, normalize: bool = False) -> list[np.ndarray]:
    codebooks, residual = [], x.astype(np.float32, copy=True)
    for level in range(levels):
        if normalize:
            residual = _unit(residual)[0]
        km = KMeans(n_clusters=width, n_init=1, max_iter=100, random_state=seed + level).fit(residual)
        c = km.cluster_centers_.astype(np.float32)
        residual -= c[km.labels_]
        codebooks.append(c)
    return codebooks


def assign(x: np.ndarray, codebooks: list[np.ndarray], normalize: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Greedy residual assignment: codes (n, L) and the reconstruction (n, D). With `normalize`, the residual
    is tracked in units of the running product of the norms divided out, so the reconstruction is in x's scale."""
    residual = x.astype(np.float32, copy=True)
    scale = np.ones((len(x), 1), dtype=np.float32)
    codes = np.zeros((len(x), len(codebooks)), dtype=np.int64)
    for level, c in enumerate(codebooks):
        if normalize:
            residual, norm = _unit(residual)
            scale *= norm
        d = (residual ** 2).sum(1, keepdims=True) - 2 * residual @ c.T + (c ** 2).sum(1)
        codes[:, level] = d.argmin(1)
        residual -= c[codes[:, level]]
    return codes, x - scale * residual


def fit(x: np.ndarray, levels: int, width: int, seed: int, normalize: bool = False,
        **_) -> tuple[np.ndarray, np.ndarray, int]:
    codebooks = fit_codebooks(x, levels, width, seed, normalize)
    codes, recon = assign(x, codebooks, normalize)
    return codes, recon, levels * width * x.shape[1]
