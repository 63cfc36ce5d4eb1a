"""`gr-scaling run`: one run in this process (or one rank of it under torchrun)."""
from __future__ import annotations

import contextlib
import sys

from scaling.app.common import add_paths
from scaling.errors import GRError


@contextlib.contextmanager
def _silenced(quiet: bool):
    """--quiet: nothing reaches the terminal while the run works — our bars and log lines are off, and what
    libraries print on their own (weight-loading and GGUF bars, DeepSpeed's accelerator notice, deprecation
    warnings) goes to /dev/null at the file-descriptor level. Errors still surface: they propagate as exceptions
    and are printed after the streams are restored (a GRError as its one line)."""
    if not quiet:
        yield
        return
    import os
    import warnings

    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in (*saved, devnull):
            os.close(fd)


def command(args) -> None:
    from scaling import config
    from scaling.distributed import init_from_env, shutdown
    from scaling.run import run

    if args.config and args.record:
        raise GRError("give --config (a config file of yours: today's defaults fill it) or --from (a run record: "
                      "it reloads as it ran), not both")
    cfg = config.from_record(args.record, args.overrides) if args.record else config.load(args.config, args.overrides)
    dist = init_from_env()      # under torchrun: one rank of a DDP / DeepSpeed run
    try:
        with _silenced(args.quiet):
            out = run(cfg, args.runs_dir, args.cache_dir, args.data_dir, progress=not args.quiet, dist=dist,
                      log=(lambda *_: None) if args.quiet else print)
    finally:
        shutdown()
    if dist.is_main:
        print(out)


def register(sub) -> None:
    r = sub.add_parser("run", help="one run: gr-scaling run [--config F.yaml | --from RUN] key=value ...")
    r.add_argument("--config", default=None, help="a YAML of config keys; keys it leaves out take today's defaults")
    r.add_argument("--from", dest="record", default=None, metavar="RUN",
                   help="a run record (its directory or config.json): the config it ran with, overrides on top")
    r.add_argument("--quiet", action="store_true", help="no progress bars or log lines; print only the run directory")
    r.add_argument("overrides", nargs="*", help="e.g. model.preset=grid tokenizer.width=256")
    add_paths(r)
    r.set_defaults(fn=command)
