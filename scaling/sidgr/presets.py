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

# name: (layers per stack, d_model, heads, d_kv, d_ff)
ENCDEC = {
    "tiny":   (1, 64, 2, 32, 256),
    "small":  (2, 128, 4, 32, 512),
    "grid":   (4, 128, 6, 64, 1024),
    "medium": (6, 256, 8, 32, 1024),
    "large":  (6, 512, 8, 64, 2048),
    "xl":     (8, 768, 12, 64, 3072),
}
# name: (layers, d_model, heads, d_ff) for the Llama-style decoder-only recommender
DECODER = {
    "tiny":   (2, 64, 2, 256),
    "small":  (4, 128, 4, 512),
    "grid":   (8, 128, 4, 1024),
    "medium": (12, 256, 8, 1024),
    "large":  (12, 512, 8, 2048),
    "xl":     (16, 768, 12, 3072),
}
PRESETS = {"encdec": ENCDEC, "decoder": DECODER}


def d_model(preset: str, arch: str = "encdec") -> int:
    return PRESETS[arch][preset][1]


def lr_rule(preset: str, arch: str = "encdec") -> float:
    """lr = 1e-3 * min(1, 128 / d_model) * min(1, small's layers / layers). Encoder-decoder: tiny/small 1e-3,
    grid 5e-4, medium 1.67e-4, large 8.3e-5, xl 4.2e-5 (decoder-only: the same by its own small preset)."""
    layers = PRESETS[arch][preset][0]
    return 1e-3 * min(1.0, 128 / d_model(preset, arch)) * min(1.0, PRESETS[arch]["small"][0] / layers)
