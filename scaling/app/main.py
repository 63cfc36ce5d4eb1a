"""`gr-scaling` command line: one module per verb (each `register`s its parser). Errors of the user's making
(scaling.errors.GRError, analysis' errors among them) print one line and exit 2."""
from __future__ import annotations

import argparse
import sys

from scaling.app import (config, data, fidelity, fit, presets, quickstart, reference, report, run, step_limited, suggest,
                         sweep)
from scaling.errors import GRError

VERBS = (run, config, data, presets, fit, report, suggest, reference, fidelity, sweep, quickstart, step_limited)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="gr-scaling", description="Scaling studies of generative recommendation")
    sub = p.add_subparsers(dest="cmd", required=True)
    for verb in VERBS:
        verb.register(sub)
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
