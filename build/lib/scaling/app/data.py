"""`gr-scaling data stats|download`: dataset tools."""
from __future__ import annotations


def stats(args) -> None:
    from scaling.data import leave_one_out, load_dataset

    ds = load_dataset(args.dataset, args.data_dir)
    print(ds.summary())
    print("items lacking each text field:", ds.missing_fields())
    sp = leave_one_out(ds)
    print(f"training examples (sliding window): {len(sp.train):,}")


def download(args) -> None:
    from scaling.data.download import download as fetch

    for p in fetch(args.dataset, args.dest):
        print(p)


def register(sub) -> None:
    d = sub.add_parser("data", help="dataset tools")
    dsub = d.add_subparsers(dest="data_cmd", required=True)
    s = dsub.add_parser("stats", help="counts and text coverage of a dataset")
    s.add_argument("dataset")
    s.add_argument("--data-dir", default=None)
    s.set_defaults(fn=stats)
    dl = dsub.add_parser("download", help="McAuley's original 2014 files (needs internet)")
    dl.add_argument("dataset", help="beauty | sports | toys | a McAuley category name")
    dl.add_argument("dest")
    dl.set_defaults(fn=download)
