"""The in-memory dataset every loader returns, and item text rendering."""
from __future__ import annotations

import html
from dataclasses import dataclass

import numpy as np

from scaling.errors import DataError

TEXT_FIELDS = ("title", "categories", "description", "price")

# Published Amazon 2014 5-core counts (users, items, interactions); loading a full copy checks them.
PUBLISHED_COUNTS = {
    "beauty": (22_363, 12_101, 198_502),
    "sports": (35_598, 18_357, 296_337),
    "toys": (19_412, 11_924, 167_597),
}


@dataclass
class Dataset:
    """Users' chronological item sequences over a compact item index 0..n_items-1.

    `item_ids` are the original ids (e.g. ASINs); the index is their sorted order, so it carries no
    first-appearance information (P5's integer ids do). `items[i]` holds the text fields of item i
    (None where absent).
    """

    name: str
    user_ids: list[str]
    sequences: list[np.ndarray]
    item_ids: list[str]
    items: list[dict]
    parent_items: np.ndarray | None = None   # for a subset: index of each item in the full dataset

    @property
    def n_users(self) -> int:
        return len(self.sequences)

    @property
    def n_items(self) -> int:
        return len(self.item_ids)

    @property
    def n_interactions(self) -> int:
        return int(sum(len(s) for s in self.sequences))

    def summary(self) -> str:
        return (f"{self.name}: {self.n_users:,} users / {self.n_items:,} items / "
                f"{self.n_interactions:,} interactions")

    def has_text(self) -> bool:
        return any(it.get(f) for it in self.items for f in TEXT_FIELDS)

    def missing_fields(self) -> dict[str, int]:
        """How many items lack each text field."""
        return {f: sum(1 for it in self.items if not it.get(f)) for f in TEXT_FIELDS}

    def subset(self, max_users: int, seed: int) -> "Dataset":
        """A seeded random subset of users; items are re-indexed to those they touch."""
        if max_users <= 0 or max_users >= self.n_users:
            return self
        rng = np.random.default_rng(seed)
        keep = np.sort(rng.choice(self.n_users, size=max_users, replace=False))
        return self._restricted(keep, [self.sequences[u] for u in keep], f"{max_users}u,seed{seed}")

    def popular_core(self, max_items: int, min_items: int) -> "Dataset":
        """The `max_items` most-interacted items (ties: lower index), every sequence cut to them, and
        the users left with at least `min_items` of them. A random few-thousand-user subset of a 5-core
        set keeps almost none of its density (most items are then seen once or twice, so there is
        little collaborative signal to learn); this dense sub-catalogue keeps it for small studies."""
        if max_items <= 0 or max_items >= self.n_items:
            return self
        counts = np.bincount(np.concatenate(self.sequences), minlength=self.n_items)
        top = np.zeros(self.n_items, dtype=bool)
        top[np.argsort(-counts, kind="stable")[:max_items]] = True
        cut = [s[top[s]] for s in self.sequences]
        keep = np.array([u for u, s in enumerate(cut) if len(s) >= min_items], dtype=np.int64)
        if not len(keep):
            raise DataError(f"dataset {self.name}: no user has {min_items} or more interactions among the "
                            f"{max_items} most popular items; raise data.max_items or lower data.min_sequence")
        return self._restricted(keep, [cut[u] for u in keep], f"top{max_items}i,>={min_items}")

    def _restricted(self, keep: np.ndarray, seqs: list[np.ndarray], tag: str) -> "Dataset":
        """Users `keep` with sequences `seqs`; items re-indexed to those the sequences touch."""
        used = np.unique(np.concatenate(seqs))
        remap = np.full(self.n_items, -1, dtype=np.int64)
        remap[used] = np.arange(len(used))
        return Dataset(
            name=f"{self.name}[{tag}]",
            user_ids=[self.user_ids[u] for u in keep],
            sequences=[remap[s] for s in seqs],
            item_ids=[self.item_ids[i] for i in used],
            items=[self.items[i] for i in used],
            parent_items=used if self.parent_items is None else self.parent_items[used],
        )


def select(full: Dataset, max_items: int, min_items: int, max_users: int, seed: int) -> Dataset:
    """What a run trains and evaluates on: the popular core (if `max_items`), then a user subset."""
    return full.popular_core(max_items, min_items).subset(max_users, seed)


def _categories(cats) -> str:
    if not cats:
        return ""
    if isinstance(cats, str):
        return cats
    paths = [" > ".join(p) if isinstance(p, (list, tuple)) else str(p) for p in cats]
    return " | ".join(dict.fromkeys(paths))


def item_text(item: dict) -> str:
    """GRID-style item text: the fields present, in a fixed order.

    Template: ``Title: <title>; Categories: <a > b | c > d>; Description: <text>; Price: <price>``
    with absent fields left out (HTML entities in titles are unescaped).
    """
    parts = []
    if item.get("title"):
        parts.append(f"Title: {html.unescape(str(item['title'])).strip()}")
    if item.get("categories"):
        parts.append(f"Categories: {_categories(item['categories'])}")
    if item.get("description"):
        parts.append(f"Description: {html.unescape(str(item['description'])).strip()}")
    if item.get("price") not in (None, ""):
        parts.append(f"Price: {item['price']}")
    return "; ".join(parts)
