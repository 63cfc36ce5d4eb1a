"""Quantization tokenizers (RK-Means, R-VQ, RQ-VAE) behind one function: fit_sids(emb, cfg, seed, cache)."""
from scaling.tokenizers.sids import SIDs, fit_sids

__all__ = ["SIDs", "fit_sids"]
