"""SASRec training FLOPs before a run (`sweep submit --dry-run`): the record's formula from the preset's shape
(~10 history items an example, as SID-GR's estimate), times the examples it trains on (scaling.estimate_data)."""
from __future__ import annotations


def train_flops_estimate(cfg, data_dir: str | None = None) -> float | None:
    from scaling.estimate_data import data_sizes, train_steps
    from scaling.idrec.model import PRESETS, sasrec_flops_per_example

    p = PRESETS[cfg.sasrec.preset]
    _, examples = train_steps(cfg.train, cfg.data, data_dir)
    sizes = data_sizes(cfg.data, data_dir)
    if examples is None or sizes is None:
        return None
    return sasrec_flops_per_example(12 * p.d_model ** 2 * p.layers, p.d_model, sizes[1], 10) * examples
