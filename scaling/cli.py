"""`gr-scaling` command line. Errors of the user's making print one line and exit 2."""
from __future__ import annotations

import argparse
import sys

from scaling.errors import GRError


def _run(args) -> None:
    from scaling import config
    from scaling.run import run

    cfg = config.load(args.config, args.overrides)
    out = run(cfg, args.runs_dir, args.cache_dir, args.data_dir, progress=not args.quiet)
    print(out)


def _data_stats(args) -> None:
    from scaling.data import leave_one_out, load_dataset

    ds = load_dataset(args.dataset, args.data_dir)
    print(ds.summary())
    print("items lacking each text field:", ds.missing_fields())
    sp = leave_one_out(ds)
    print(f"training examples (sliding window): {len(sp.train):,}")


def _data_download(args) -> None:
    from scaling.data.download import download

    for p in download(args.dataset, args.dest):
        print(p)


def _presets(args) -> None:
    from scaling.config import ModelConfig
    from scaling.params import recommender_params
    from scaling.sidgr.model import TokenLayout, build_model
    from scaling.sidgr.presets import PRESETS

    layout = TokenLayout([256, 256, 256, 8], 0)
    print(f"{'arch':8} {'preset':8} {'N_RS':>12} {'non-embedding':>14}  (vocab of 3x256 SIDs + dedup digit)")
    for arch, table in PRESETS.items():
        for name in table:
            p = recommender_params(build_model(ModelConfig(arch=arch, preset=name), layout))
            print(f"{arch:8} {name:8} {p['n_rs']:>12,} {p['n_rs_non_embedding']:>14,}")


def _quickstart(args) -> None:
    from scaling.quickstart import quickstart

    quickstart(args.runs_dir, args.cache_dir, args.data_dir, reduced=args.reduced)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="gr-scaling", description="Scaling studies of generative recommendation")
    sub = p.add_subparsers(dest="cmd", required=True)

    def paths(sp, runs="runs"):
        sp.add_argument("--runs-dir", default=runs, help="where run directories go (default: %(default)s)")
        sp.add_argument("--cache-dir", default=None, help="embedding/SID cache (default: $GR_SCALING_CACHE "
                        "or ~/.cache/gr-scaling)")
        sp.add_argument("--data-dir", default=None, help="where datasets are looked for (default: "
                        "$GR_SCALING_DATA, then ../shared/datasets beside the repo)")

    r = sub.add_parser("run", help="one run: gr-scaling run [--config F.yaml] key=value ...")
    r.add_argument("--config", default=None)
    r.add_argument("--quiet", action="store_true")
    r.add_argument("overrides", nargs="*", help="e.g. model.preset=grid tokenizer.width=256")
    paths(r)
    r.set_defaults(fn=_run)

    d = sub.add_parser("data", help="dataset tools")
    dsub = d.add_subparsers(dest="data_cmd", required=True)
    s = dsub.add_parser("stats", help="counts and text coverage of a dataset")
    s.add_argument("dataset")
    s.add_argument("--data-dir", default=None)
    s.set_defaults(fn=_data_stats)
    dl = dsub.add_parser("download", help="McAuley's original 2014 files (needs internet)")
    dl.add_argument("dataset", help="beauty | sports | toys | a McAuley category name")
    dl.add_argument("dest")
    dl.set_defaults(fn=_data_download)

    pr = sub.add_parser("presets", help="recommender size presets and their parameter counts")
    pr.set_defaults(fn=_presets)

    q = sub.add_parser("quickstart", help="a small real scaling study on this machine")
    q.add_argument("--reduced", action="store_true", help="smaller grid (what CI runs)")
    paths(q, runs="results/quickstart")
    q.set_defaults(fn=_quickstart)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        args.fn(args)
    except GRError as e:
        print(f"gr-scaling: error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
