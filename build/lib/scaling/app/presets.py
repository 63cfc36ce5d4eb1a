"""`gr-scaling presets`: the recommender sizes, their parameter counts and the lr rule."""
from __future__ import annotations


def command(args) -> None:
    from scaling.config import ModelConfig
    from scaling.params import recommender_params
    from scaling.sidgr.model import TokenLayout, build_model
    from scaling.sidgr.presets import PRESETS, lr_rule

    layout = TokenLayout([256, 256, 256, 8], 0)
    print(f"{'arch':8} {'preset':8} {'N_RS':>12} {'non-embedding':>14} {'lr (rule)':>10}  "
          "(vocab of 3x256 SIDs + dedup digit; lr rule: scaling.sidgr.presets.lr_rule, set it as train.lr)")
    for arch, table in PRESETS.items():
        for name in table:
            p = recommender_params(build_model(ModelConfig(arch=arch, preset=name), layout))
            print(f"{arch:8} {name:8} {p['n_rs']:>12,} {p['n_rs_non_embedding']:>14,} {lr_rule(name, arch):>10.2e}")


def register(sub) -> None:
    sub.add_parser("presets", help="recommender size presets and their parameter counts").set_defaults(fn=command)
