"""Training examples per epoch of a run's data, before the run (`sweep submit --dry-run` bounds epoch-bounded runs
with it). Counted by the split itself, memoised per data config: a grid has a handful of data configs."""
from __future__ import annotations

from functools import lru_cache

from scaling.config import DataConfig

GPU_TFLOPS = 400.0   # the dry run's default throughput: an H100's bf16 dense peak (989 TFLOP/s) at ~40% utilisation


@lru_cache(maxsize=None)
def data_sizes(data: DataConfig, data_dir: str | None) -> tuple[int, int] | None:
    """(training examples per epoch, items) of a run's data; None when it cannot be read here (said, not guessed)."""
    from scaling.data import load_split
    from scaling.errors import GRError

    try:
        _, ds, split = load_split(data, data_dir, log=lambda *_: None)
    except (GRError, OSError):
        return None
    return len(split.train), ds.n_items


def train_examples(data: DataConfig, data_dir: str | None) -> int | None:
    sizes = data_sizes(data, data_dir)
    return None if sizes is None else sizes[0]


def train_steps(train, data: DataConfig, data_dir: str | None) -> tuple[int | None, int | None]:
    """(optimizer steps, examples) a run trains at most: max_steps, else max_epochs of its data's global batches
    (early stopping may end it sooner)."""
    if train.max_steps:
        return train.max_steps, train.max_steps * train.batch_size
    n = train_examples(data, data_dir)
    if n is None:
        return None, None
    steps = train.max_epochs * -(-n // train.batch_size)
    return steps, train.max_epochs * n
