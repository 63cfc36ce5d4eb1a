"""Content-addressed artifacts (embeddings, SIDs) shared across runs.

An artifact's path is a hash of everything that determines it. Computing it takes a file lock, so
concurrent jobs of a sweep compute it once: the first takes the lock and writes atomically, the rest
wait and then load.
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Callable

import numpy as np
from filelock import FileLock

from scaling.record.atomic import atomic_save_npz


def default_cache_dir() -> Path:
    return Path(os.environ.get("GR_SCALING_CACHE", Path.home() / ".cache" / "gr-scaling"))


def content_key(obj) -> str:
    blob = json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:24]


class ArtifactCache:
    def __init__(self, root: str | Path | None = None):
        self.root = Path(root) if root else default_cache_dir()

    def path(self, kind: str, key: str) -> Path:
        return self.root / kind / f"{key}.npz"

    def get_or_compute(self, kind: str, key_obj, compute: Callable[[], dict]) -> tuple[dict, bool]:
        """Load the arrays for `key_obj`, computing them under a lock if absent.

        Returns (arrays, hit). `compute` returns a dict of numpy arrays (JSON-able metadata may go in
        as a 0-d string array).
        """
        path = self.path(kind, content_key(key_obj))
        if path.is_file():
            return _load(path), True
        path.parent.mkdir(parents=True, exist_ok=True)
        with FileLock(str(path) + ".lock"):
            if path.is_file():          # another process finished while we waited
                return _load(path), True
            arrays = compute()
            atomic_save_npz(path, **arrays)
            return arrays, False


def _load(path: Path) -> dict:
    with np.load(path, allow_pickle=False) as z:
        return {k: z[k] for k in z.files}
