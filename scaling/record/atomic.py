"""One atomic write for every file a run or the cache leaves: a temp file beside the target, flushed and fsync'd,
then renamed over it. A crash leaves the old file or the new one, never half of either."""
from __future__ import annotations

import contextlib
import io
import os
from pathlib import Path
from typing import Callable


def atomic_write(path: Path, write: Callable[[io.BufferedWriter], None]) -> None:
    """`write(f)` fills a binary file that replaces `path` only once it is complete and on disk."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        with open(tmp, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def atomic_write_bytes(path: Path, data: bytes) -> None:
    atomic_write(path, lambda f: f.write(data))


def atomic_save_npz(path: Path, compressed: bool = False, **arrays) -> None:
    import numpy as np

    atomic_write(path, lambda f: (np.savez_compressed if compressed else np.savez)(f, **arrays))


def atomic_torch_save(obj, path: Path) -> None:
    """A checkpoint (last.pt, best.pt), through the same fsync'd rename (torch imported here, on first use only)."""
    import torch

    atomic_write(path, lambda f: torch.save(obj, f))


@contextlib.contextmanager
def atomic_dir(path: Path):
    """A directory filled under a temporary name beside `path`, then renamed to it (an older one is moved aside first
    and removed after): readers see the old directory or the whole new one, never one half-written."""
    import shutil
    import tempfile

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
    try:
        yield tmp
        old = path.with_name(f".{path.name}.old-{os.getpid()}")
        if path.exists():
            path.rename(old)
        tmp.rename(path)
        shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
