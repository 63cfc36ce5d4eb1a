"""Embeddings -> semantic IDs: quantize, de-duplicate colliding codes, report SID quality."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

from scaling.cache import ArtifactCache
from scaling.config import TokenizerConfig
from scaling.errors import ConfigError
from scaling.tokenizers import rkmeans, rqvae, rvq

QUANTIZERS = {"rkmeans": rkmeans.fit, "rvq": rvq.fit, "rqvae": rqvae.fit}


@dataclass
class SIDs:
    codes: np.ndarray      # (n_items, L') digits, L' = L (+1 with the dedup digit)
    widths: list[int]      # values per digit position
    n_params: int          # N_QT
    quality: dict

    @property
    def length(self) -> int:
        return self.codes.shape[1]


def collisions(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per item: its rank inside its group of identical codes, and the group's size."""
    _, inverse, counts = np.unique(codes, axis=0, return_inverse=True, return_counts=True)
    inverse = inverse.reshape(-1)
    order = np.argsort(inverse, kind="stable")
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    rank = np.empty(len(codes), dtype=np.int64)
    rank[order] = np.arange(len(codes)) - np.repeat(starts, counts)
    return rank, counts[inverse]


def dedup_digit(codes: np.ndarray) -> tuple[np.ndarray, int]:
    """TIGER: append a digit numbering the items that share a code (0 for unique codes)."""
    rank, _ = collisions(codes)
    return np.concatenate([codes, rank[:, None]], 1), int(rank.max()) + 1


def dedup_random(codes: np.ndarray, width: int, seed: int) -> np.ndarray:
    """Move each colliding item (all but the first of its group) to a random free last digit
    under the same prefix."""
    rng = np.random.default_rng(seed)
    codes = codes.copy()
    rank, _ = collisions(codes)
    used: dict[tuple, set] = {}
    for row in map(tuple, codes):
        used.setdefault(row[:-1], set()).add(row[-1])
    for i in np.flatnonzero(rank > 0):
        prefix = tuple(codes[i, :-1])
        free = np.setdiff1d(np.arange(width), np.fromiter(used[prefix], dtype=np.int64))
        if not len(free):
            raise ConfigError(f"tokenizer.dedup=random: prefix {prefix} has no free last digit "
                              f"(width {width}); use tokenizer.dedup=digit or a larger tokenizer.width")
        codes[i, -1] = rng.choice(free)
        used[prefix].add(codes[i, -1])
    return codes


def quality(x: np.ndarray, codes: np.ndarray, recon: np.ndarray, width: int) -> dict:
    _, size = collisions(codes)
    q = {"collision_rate": float((size > 1).mean()), "max_collision_group": int(size.max()),
         "recon_rel_mse": float(((x - recon) ** 2).sum() / ((x - x.mean(0)) ** 2).sum())}
    for level in range(codes.shape[1]):
        p = np.bincount(codes[:, level], minlength=width) / len(codes)
        nz = p[p > 0]
        q[f"usage_l{level}"] = float((p > 0).mean())
        q[f"entropy_l{level}"] = float(-(nz * np.log2(nz)).sum() / np.log2(width))
    return q


def fit_sids(emb: np.ndarray, cfg: TokenizerConfig, seed: int, cache: ArtifactCache) -> tuple[SIDs, bool]:
    n = len(emb)
    if cfg.dedup == "none" and cfg.width ** cfg.levels < n:
        raise ConfigError(f"tokenizer: L x W = {cfg.levels} x {cfg.width} gives {cfg.width ** cfg.levels:,} codes "
                          f"for {n:,} items; set tokenizer.dedup=digit or raise tokenizer.levels/width")
    if cfg.width > n:
        raise ConfigError(f"tokenizer.width = {cfg.width} exceeds the {n} items to cluster; lower tokenizer.width")
    # `normalize` joins the key only when set: SIDs cached before the key existed stay valid
    cfg_key = {k: v for k, v in cfg.__dict__.items() if not (k == "normalize" and not v)}
    key = {"emb": hashlib.sha256(np.ascontiguousarray(emb).tobytes()).hexdigest(), "cfg": cfg_key, "seed": seed}

    def compute():
        codes, recon, n_params = QUANTIZERS[cfg.kind](emb, cfg.levels, cfg.width, seed,
                                                      epochs=cfg.epochs, latent_dim=cfg.latent_dim,
                                                      normalize=cfg.normalize)
        q = quality(emb, codes, recon, cfg.width)
        return {"codes": codes, "n_params": np.array(n_params),
                "quality_keys": np.array(list(q)), "quality_vals": np.array(list(q.values()))}

    arrays, hit = cache.get_or_compute("sids", key, compute)
    codes = arrays["codes"]
    q = dict(zip(arrays["quality_keys"].tolist(), arrays["quality_vals"].tolist()))
    widths = [cfg.width] * cfg.levels
    if cfg.dedup == "digit":
        codes, extra = dedup_digit(codes)
        widths.append(extra)
    elif cfg.dedup == "random":
        codes = dedup_random(codes, cfg.width, seed)
    elif q["collision_rate"] > 0:
        raise ConfigError(f"tokenizer: {q['collision_rate']:.1%} of items share an SID at L x W = "
                          f"{cfg.levels} x {cfg.width} and tokenizer.dedup=none; set tokenizer.dedup=digit "
                          "or raise tokenizer.levels/width")
    return SIDs(codes=codes, widths=widths, n_params=int(arrays["n_params"]), quality=q), hit
