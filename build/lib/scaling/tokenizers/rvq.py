"""Residual VQ: L codebooks (initialised by residual k-means) refined jointly by gradient descent on
the reconstruction error of the summed codewords; assignment is greedy residual nearest-neighbour.

Hand-written (about 30 lines) rather than taken from a VQ library: we need exactly GRID's R-VQ
semantics (no encoder, codebook-only training, k-means init shared with RK-Means) and determinism
under a seed, which the libraries we looked at do not promise.
"""
from __future__ import annotations

import numpy as np
import torch

from scaling.tokenizers import rkmeans


def residual_quantize(x: torch.Tensor, codebooks: list[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    """Codes (n, L) and the quantized vector (sum of chosen codewords, differentiable in the codebooks)."""
    residual, quant, codes = x, torch.zeros_like(x), []
    for c in codebooks:
        idx = torch.cdist(residual.detach(), c.detach()).argmin(1)
        q = c[idx]
        codes.append(idx)
        quant = quant + q
        residual = residual - q.detach()
    return torch.stack(codes, 1), quant


def fit(x: np.ndarray, levels: int, width: int, seed: int, epochs: int = 100, batch_size: int = 1024,
        lr: float = 1e-3, **_) -> tuple[np.ndarray, np.ndarray, int]:
    g = torch.Generator().manual_seed(seed)
    init = rkmeans.fit_codebooks(x, levels, width, seed)
    codebooks = [torch.nn.Parameter(torch.from_numpy(c)) for c in init]
    opt = torch.optim.Adam(codebooks, lr=lr)
    xt = torch.from_numpy(x.astype(np.float32))
    for _ in range(epochs):
        for idx in torch.randperm(len(xt), generator=g).split(batch_size):
            _, quant = residual_quantize(xt[idx], codebooks)
            loss = ((xt[idx] - quant) ** 2).sum(1).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
    with torch.no_grad():
        codes, quant = residual_quantize(xt, codebooks)
    return codes.numpy(), quant.numpy(), levels * width * x.shape[1]
