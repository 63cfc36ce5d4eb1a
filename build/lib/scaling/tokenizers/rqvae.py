"""RQ-VAE (TIGER): MLP encoder -> residual quantizer -> MLP decoder, trained on reconstruction +
codebook/commitment losses with a straight-through estimator; codebooks initialised by k-means on
the first batch of latents."""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from scaling.tokenizers import rkmeans
from scaling.tokenizers.rvq import residual_quantize


def mlp(sizes: list[int]) -> nn.Sequential:
    layers = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        layers += [nn.Linear(a, b), nn.SiLU()]
    return nn.Sequential(*layers[:-1])


class RQVAE(nn.Module):
    def __init__(self, dim: int, latent: int, levels: int, width: int, hidden=(512, 256, 128)):
        super().__init__()
        self.encoder = mlp([dim, *hidden, latent])
        self.decoder = mlp([latent, *reversed(hidden), dim])
        self.codebooks = nn.ParameterList([nn.Parameter(torch.randn(width, latent) * 0.01) for _ in range(levels)])

    def forward(self, x: torch.Tensor, beta: float = 0.25):
        z = self.encoder(x)
        codes, quant = residual_quantize(z, list(self.codebooks))
        # codebook loss pulls codewords to latents; commitment keeps latents near their codewords
        vq_loss = ((quant - z.detach()) ** 2).sum(1).mean() + beta * ((z - quant.detach()) ** 2).sum(1).mean()
        z_q = z + (quant - z).detach()   # straight-through
        recon = self.decoder(z_q)
        return codes, recon, ((recon - x) ** 2).sum(1).mean() + vq_loss


def fit(x: np.ndarray, levels: int, width: int, seed: int, epochs: int = 100, latent_dim: int = 32,
        batch_size: int = 1024, lr: float = 1e-3, **_) -> tuple[np.ndarray, np.ndarray, int]:
    torch.manual_seed(seed)
    g = torch.Generator().manual_seed(seed)
    xt = torch.from_numpy(x.astype(np.float32))
    model = RQVAE(x.shape[1], latent_dim, levels, width)
    with torch.no_grad():  # k-means init of the codebooks on the initial latents
        z = model.encoder(xt[torch.randperm(len(xt), generator=g)[: max(batch_size * 4, width)]]).numpy()
        for c, init in zip(model.codebooks, rkmeans.fit_codebooks(z, levels, width, seed)):
            c.copy_(torch.from_numpy(init))
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    for _ in range(epochs):
        for idx in torch.randperm(len(xt), generator=g).split(batch_size):
            _, _, loss = model(xt[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    model.eval()
    with torch.no_grad():
        codes, recon, _ = model(xt)
    return codes.numpy(), recon.numpy(), sum(p.numel() for p in model.parameters())
