"""Item names the LLM reads and writes, and the collaborative-filtering probes.

- titles (probe=none, shuffled): an item's title; an item without one is named by its categories, and
  failing that "Item <id>" (both counted in the run record as `titles_missing`).
- id_only: every item gets an opaque code ("item 7k3q9") drawn from a seeded random permutation, so the
  name carries no meaning and no catalogue order; only co-occurrence can be learned.
- shuffled: the order inside every history (training prompts and evaluation prompts) is permuted with a
  fixed seed, so sequence order carries nothing.
- popular: no model at all; the most-popular baseline on the same split, as its own row in the table.
"""
from __future__ import annotations

import html

import numpy as np

from scaling.data.dataset import Dataset, _categories
from scaling.data.split import Examples
from scaling.errors import DataError

_CODE_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


def item_names(ds: Dataset, probe: str, seed: int) -> tuple[list[str], int]:
    """One name per item and how many items lacked a title (fell back to categories or their id)."""
    if probe == "id_only":
        rng = np.random.default_rng([seed, 7])
        codes = set()
        while len(codes) < ds.n_items:   # unique 5-character codes, no meaning, no catalogue order
            codes.add("".join(rng.choice(list(_CODE_ALPHABET), 5)))
        codes = sorted(codes)
        perm = rng.permutation(ds.n_items)
        return [f"item {codes[p]}" for p in perm], 0
    names, missing = [], 0
    for item_id, it in zip(ds.item_ids, ds.items):
        title = html.unescape(str(it.get("title") or "")).strip()
        if not title:
            missing += 1
            cats = _categories(it.get("categories"))
            title = cats.split(" | ")[0].split(" > ")[-1] if cats else f"Item {item_id}"
        names.append(" ".join(title.split()))
    if missing == ds.n_items:
        raise DataError(f"dataset {ds.name}: no item has a title; LLM-as-RS reads titles - use a dataset with "
                        "titles, or llm.probe=id_only to learn from co-occurrence alone")
    return names, missing


def shuffle_histories(ex: Examples, seed: int) -> Examples:
    """The same examples with the items inside each history permuted (padding stays on the left)."""
    rng = np.random.default_rng([seed, 11])
    h = ex.history.copy()
    keys = rng.random(h.shape)
    keys[h < 0] = -1.0                       # padding sorts first, so it stays left-aligned
    h = np.take_along_axis(h, np.argsort(keys, axis=1, kind="stable"), axis=1)
    return Examples(h, ex.target, ex.user)
