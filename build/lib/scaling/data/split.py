"""Leave-one-out split and training examples, as padded index arrays (no per-example Python objects
in the hot path).

Histories are right-aligned in a (n, max_history) int array, padded with -1 on the left.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from scaling.data.dataset import Dataset
from scaling.errors import DataError


@dataclass
class Examples:
    history: np.ndarray   # (n, H) item indices, -1 = padding (left)
    target: np.ndarray    # (n,)
    user: np.ndarray      # (n,) user index

    def __len__(self) -> int:
        return len(self.target)

    @property
    def lengths(self) -> np.ndarray:
        return (self.history >= 0).sum(1)

    def sample(self, n: int) -> "Examples":
        """The first n of a fixed permutation (every run and paradigm evaluates the same users); n=0: all."""
        if n <= 0 or n >= len(self):
            return self
        idx = np.random.default_rng(12345).permutation(len(self))[:n]
        return Examples(self.history[idx], self.target[idx], self.user[idx])


@dataclass
class Split:
    train_sequences: list[np.ndarray]
    train: Examples
    valid: Examples
    test: Examples
    n_items: int


def _pack(histories: list[np.ndarray], targets: list[int], users: list[int], max_history: int) -> Examples:
    h = np.full((len(histories), max_history), -1, dtype=np.int64)
    for r, s in enumerate(histories):
        s = s[-max_history:]
        if len(s):
            h[r, max_history - len(s):] = s
    return Examples(h, np.asarray(targets, dtype=np.int64), np.asarray(users, dtype=np.int64))


def leave_one_out(ds: Dataset, max_history: int = 20, sliding_window: bool = True,
                  min_sequence: int = 3, augment: str = "prefix") -> Split:
    """Last item = test, second to last = validation, the rest = training.

    Training examples: with `sliding_window`, every prefix of the training sequence predicts its next
    item (TIGER); `augment="all"` adds every contiguous sub-sequence (GRID's augmentation: the same target
    behind histories of every length, each start from the target's max_history-th predecessor on, since an
    earlier start is cut to the same history); without `sliding_window`, only the last training item.
    """
    short = [u for u, s in enumerate(ds.sequences) if len(s) < min_sequence]
    if short:
        raise DataError(f"dataset {ds.name}: {len(short)} users have fewer than {min_sequence} items "
                        f"(e.g. user '{ds.user_ids[short[0]]}'); leave-one-out needs >= {min_sequence}")
    tr_h, tr_t, tr_u, va_h, va_t, te_h, te_t, users = [], [], [], [], [], [], [], []
    train_seqs = []
    for u, s in enumerate(ds.sequences):
        train = s[:-2]
        train_seqs.append(train)
        starts = range(1, len(train)) if sliding_window else range(max(1, len(train) - 1), len(train))
        for t in starts:
            for a in (range(max(0, t - max_history), t) if augment == "all" else (0,)):
                tr_h.append(train[a:t])
                tr_t.append(int(train[t]))
                tr_u.append(u)
        va_h.append(s[:-2])
        va_t.append(int(s[-2]))
        te_h.append(s[:-1])
        te_t.append(int(s[-1]))
        users.append(u)
    return Split(
        train_sequences=train_seqs,
        train=_pack(tr_h, tr_t, tr_u, max_history),
        valid=_pack(va_h, va_t, users, max_history),
        test=_pack(te_h, te_t, users, max_history),
        n_items=ds.n_items,
    )


def most_popular(split: Split, k: int) -> np.ndarray:
    """Top-k items by interaction count in the training sequences (the baseline every run reports)."""
    counts = np.bincount(np.concatenate(split.train_sequences), minlength=split.n_items)
    return np.argsort(-counts, kind="stable")[:k]
