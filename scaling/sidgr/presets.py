"""Recommender size presets, from ~0.1M to ~130M non-embedding parameters.

`grid` is GRID's default TIGER: 4 encoder + 4 decoder layers, d_model 128, 6 heads (d_kv 64),
MLP 1024. Non-embedding counts (printed by `gr-scaling presets`) are exact for a given vocabulary.

Learning rate by size (`lr_rule`; issue #14: with one lr for every size the large preset peaked at step 1,000
and fell): GRID's released 1e-3 at the small preset's shape (d_model 128, 2 layers a stack), halved for each
doubling of width (as muP prescribes for Adam on hidden weights) and of depth past it. The depth factor is
measured: on Beauty's dense core the grid preset (4 layers, d_model 128) trained to early stop reached test
R@10 0.103 at 1e-3 and 0.134 at 5e-4 (notebooks/results/dense-ladder); larger sizes are the rule's
extrapolation. It is not applied behind a run's back: `train.lr` is what a run uses, and ladders set the rule's
value per size (sweeps/grids/dense-ladder.yaml, paper-rs.yaml); `gr-scaling presets` prints it.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class EncDecPreset:
    """A T5 encoder-decoder: `layers` in each stack."""
    layers: int
    d_model: int
    heads: int
    d_kv: int
    d_ff: int


@dataclass(frozen=True)
class DecoderPreset:
    """A Llama-style decoder-only recommender."""
    layers: int
    d_model: int
    heads: int
    d_ff: int


ENCDEC = {
    "tiny":   EncDecPreset(layers=1, d_model=64, heads=2, d_kv=32, d_ff=256),
    "small":  EncDecPreset(layers=2, d_model=128, heads=4, d_kv=32, d_ff=512),
    "grid":   EncDecPreset(layers=4, d_model=128, heads=6, d_kv=64, d_ff=1024),
    "medium": EncDecPreset(layers=6, d_model=256, heads=8, d_kv=32, d_ff=1024),
    "large":  EncDecPreset(layers=6, d_model=512, heads=8, d_kv=64, d_ff=2048),
    "xl":     EncDecPreset(layers=8, d_model=768, heads=12, d_kv=64, d_ff=3072),
    # the 2025 study's ten recommender sizes (arXiv 2509.25522, Table 2: layers per stack, d_kv 64), named by its
    # parameter counts; sweeps/grids/paper-rs.yaml runs them
    "t2-336k": EncDecPreset(layers=1, d_model=64, heads=3, d_kv=64, d_ff=512),
    "t2-778k": EncDecPreset(layers=2, d_model=64, heads=3, d_kv=64, d_ff=512),
    "t2-1.9m": EncDecPreset(layers=5, d_model=64, heads=3, d_kv=64, d_ff=512),
    "t2-3.3m": EncDecPreset(layers=9, d_model=64, heads=3, d_kv=64, d_ff=512),
    "t2-6.7m": EncDecPreset(layers=3, d_model=128, heads=6, d_kv=64, d_ff=1024),
    "t2-13m": EncDecPreset(layers=4, d_model=128, heads=6, d_kv=64, d_ff=1024),
    "t2-21m": EncDecPreset(layers=7, d_model=128, heads=6, d_kv=64, d_ff=1024),
    "t2-43m": EncDecPreset(layers=8, d_model=192, heads=9, d_kv=64, d_ff=1536),
    "t2-88m": EncDecPreset(layers=9, d_model=320, heads=15, d_kv=64, d_ff=2560),
    "t2-192m": EncDecPreset(layers=20, d_model=384, heads=18, d_kv=64, d_ff=3072),
}
DECODER = {
    "tiny":   DecoderPreset(layers=2, d_model=64, heads=2, d_ff=256),
    "small":  DecoderPreset(layers=4, d_model=128, heads=4, d_ff=512),
    "grid":   DecoderPreset(layers=8, d_model=128, heads=4, d_ff=1024),
    "medium": DecoderPreset(layers=12, d_model=256, heads=8, d_ff=1024),
    "large":  DecoderPreset(layers=12, d_model=512, heads=8, d_ff=2048),
    "xl":     DecoderPreset(layers=16, d_model=768, heads=12, d_ff=3072),
}
PRESETS = {"encdec": ENCDEC, "decoder": DECODER}


def d_model(preset: str, arch: str = "encdec") -> int:
    return PRESETS[arch][preset].d_model


def lr_rule(preset: str, arch: str = "encdec") -> float:
    """lr = 1e-3 * min(1, 128 / d_model) * min(1, small's layers / layers). Encoder-decoder: tiny/small 1e-3,
    grid 5e-4, medium 1.67e-4, large 8.3e-5, xl 4.2e-5 (decoder-only: the same by its own small preset)."""
    layers = PRESETS[arch][preset].layers
    return 1e-3 * min(1.0, 128 / d_model(preset, arch)) * min(1.0, PRESETS[arch]["small"].layers / layers)
