"""The record's JSON files and per-user outcomes, written atomically."""
from __future__ import annotations

import io
import json
from pathlib import Path

from scaling.record.atomic import atomic_write_bytes

# What a run directory holds (scaling.run writes them; sweeps and analysis read them through this package).
RECORD_FILES = ("config.json", "params.json", "metrics.json", "timing.json", "env.json", "data.json", "serving.json",
                "curves.json", "outcomes.npz", "events.log", "status")   # and tb/: TensorBoard events (scaling.curves)


def write_json(path: Path, obj) -> None:
    atomic_write_bytes(path, (json.dumps(obj, indent=2, sort_keys=True, default=str) + "\n").encode())


def read_json(path: Path):
    return json.loads(Path(path).read_text())


def write_outcomes(path: Path, outcomes: dict) -> None:
    """Per-user outcomes {set: {"user", "rank", "popular_rank"}} as one compressed .npz (atomic):
    `<set>/<field>` arrays of equal length, one row per evaluation user."""
    import numpy as np

    arrays = {f"{s}/{k}": np.asarray(v) for s, fields in outcomes.items() for k, v in fields.items()}
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    atomic_write_bytes(path, buf.getvalue())
