"""What several verbs share: the path options."""
from __future__ import annotations


def add_paths(sp, runs: str = "runs") -> None:
    sp.add_argument("--runs-dir", default=runs, help="where run directories go (default: %(default)s)")
    sp.add_argument("--cache-dir", default=None, help="embedding/SID cache (default: $GR_SCALING_CACHE "
                    "or ~/.cache/gr-scaling)")
    sp.add_argument("--data-dir", default=None, help="where datasets are looked for (default: "
                    "$GR_SCALING_DATA, then ../shared/datasets beside the repo)")


def add_results(sp, help_text: str, n_boot: int = 1000) -> None:
    sp.add_argument("results", help=help_text)
    sp.add_argument("--metric", default="test/recall@10")
    sp.add_argument("--n-boot", type=int, default=n_boot)
