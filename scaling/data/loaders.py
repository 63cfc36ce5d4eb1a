"""Dataset loaders: Amazon 2014 5-core (P5 copies in ../shared/datasets), McAuley's raw files, and a
user's own dataset in the simple format. All return a `Dataset` with items indexed by sorted id."""
from __future__ import annotations

import os
import json
import re
from collections import defaultdict
from pathlib import Path

import numpy as np

from scaling.data.dataset import PUBLISHED_COUNTS, Dataset
from scaling.data.parse import iter_lines, read_jsonl, read_loose_json_lines, read_sequences
from scaling.errors import DataError

AMAZON_FOLDERS = {"beauty": "amazon2014-beauty", "sports": "amazon2014-sports", "toys": "amazon2014-toys"}
MCAULEY_CATEGORY = {"beauty": "Beauty", "sports": "Sports_and_Outdoors", "toys": "Toys_and_Games"}


def default_data_dirs() -> list[Path]:
    """Where datasets are looked for, in order: $GR_SCALING_DATA, ../shared/datasets beside the repo."""
    dirs = []
    if os.environ.get("GR_SCALING_DATA"):
        dirs.append(Path(os.environ["GR_SCALING_DATA"]))
    repo = Path(__file__).resolve().parents[2]
    dirs.append(repo.parent / "shared" / "datasets")
    return dirs


def _build(name: str, users: list[str], seqs: list[list[str]], items: dict[str, dict]) -> Dataset:
    """Index items by sorted original id (no first-appearance leakage) and pack sequences."""
    item_ids = sorted({i for s in seqs for i in s})
    index = {it: k for k, it in enumerate(item_ids)}
    sequences = [np.fromiter((index[i] for i in s), dtype=np.int64, count=len(s)) for s in seqs]
    rows = [items.get(it, {}) for it in item_ids]
    fields = [{f: r.get(f) for f in ("title", "categories", "description", "price")} for r in rows]
    return Dataset(name=name, user_ids=users, sequences=sequences, item_ids=item_ids, items=fields)


def load_amazon_p5(folder: Path, name: str, check_counts: bool = True) -> Dataset:
    """The P5/S3-Rec copies: sequential_data.txt.gz (+ datamaps.json.gz, items.jsonl.gz)."""
    seq_path, maps_path, items_path = (folder / "sequential_data.txt.gz", folder / "datamaps.json.gz",
                                       folder / "items.jsonl.gz")
    if not maps_path.is_file():
        raise DataError(f"{maps_path}: item map not found (needed to map P5 ids to ASINs)")
    try:
        id2item = json.loads("".join(line for _, line in iter_lines(maps_path)))["id2item"]
    except (json.JSONDecodeError, KeyError, TypeError) as e:
        raise DataError(f"{maps_path}: not a P5 datamaps file with an 'id2item' map ({type(e).__name__}); "
                        "restore the file") from None
    users, seqs = read_sequences(seq_path, known_items=set(id2item), integer_ids=True)
    seqs = [[id2item[i] for i in s] for s in seqs]
    items = {}
    if name in ("beauty", "toys"):  # these copies carry item text; Sports carries none
        items = {r["asin"]: r for r in read_jsonl(items_path, "item text file (items.jsonl.gz)")}
    ds = _build(name, users, seqs, items)
    if check_counts and name in PUBLISHED_COUNTS:
        got = (ds.n_users, ds.n_items, ds.n_interactions)
        if got != PUBLISHED_COUNTS[name]:
            raise DataError(f"{seq_path}: counts {got} differ from the published 5-core counts "
                            f"{PUBLISHED_COUNTS[name]}; the copy is incomplete or modified")
    return ds


def checked_category(category: str) -> str:
    """A McAuley category becomes file names (reviews_<Category>_5.json.gz) and a URL: a plain name only."""
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_,&-]*", category):
        raise DataError(f"McAuley category {category!r} is not a plain name (letters, digits, '_', ',', '&', '-'), "
                        "e.g. Beauty or Clothing_Shoes_and_Jewelry")
    return category


def load_mcauley(folder: Path, category: str, name: str | None = None) -> Dataset:
    """McAuley's original files: reviews_<Category>_5.json.gz + meta_<Category>.json.gz.

    Same preprocessing as S3-Rec/P5: each user's reviews sorted by unixReviewTime (stable, so
    same-day reviews keep file order).
    """
    checked_category(category)
    reviews = folder / f"reviews_{category}_5.json.gz"
    meta = folder / f"meta_{category}.json.gz"
    by_user: dict[str, list[tuple[int, int, str]]] = defaultdict(list)
    for n, r in enumerate(read_loose_json_lines(reviews)):
        try:
            by_user[r["reviewerID"]].append((int(r["unixReviewTime"]), n, r["asin"]))
        except (KeyError, ValueError, TypeError):
            raise DataError(f"{reviews}:{n + 1}: review lacks reviewerID/asin/unixReviewTime") from None
    users = sorted(by_user)
    seqs = [[a for _, _, a in sorted(by_user[u])] for u in users]
    items = {}
    for n, m in enumerate(read_loose_json_lines(meta)):
        if "asin" not in m:
            raise DataError(f"{meta}:{n + 1}: metadata line lacks 'asin'")
        items[m["asin"]] = m
    return _build(name or category.lower(), users, seqs, items)


def load_simple(folder: Path) -> Dataset:
    """A user's own dataset: `sequences.txt` (`user item item ...`, chronological) + `items.jsonl`
    (`{"item_id": ..., "title": ..., "categories": ..., "description": ..., "price": ...}`)."""
    if not folder.is_dir():
        raise DataError(f"{folder}: dataset directory not found")
    rows = read_jsonl(folder / "items.jsonl", "item text file (items.jsonl)")
    items = {}
    for n, r in enumerate(rows, 1):
        if "item_id" not in r:
            raise DataError(f"{folder / 'items.jsonl'}: object {n}: missing 'item_id'")
        if str(r["item_id"]) in items:
            raise DataError(f"{folder / 'items.jsonl'}: object {n}: duplicate item_id {r['item_id']!r}; "
                            "give each item one line")
        items[str(r["item_id"])] = r
    users, seqs = read_sequences(folder / "sequences.txt", known_items=set(items))
    return _build(folder.name, users, seqs, items)


RECBOLE_FIELDS = {"title": ("movie_title", "title", "item_name", "name"),   # RecBole column -> our item text field
                  "categories": ("class", "categories", "genre", "genres"), "description": ("description",),
                  "price": ("price",)}
RECBOLE_NAMES = {"ml-100k": "movielens-100k"}   # shared copies in RecBole's format, by their RecBole name


def _atomic_table(path: Path) -> tuple[list[str], list[list[str]]]:
    """A RecBole atomic file: tab-separated, header `name:type` per column. Returns (names, rows)."""
    lines = iter_lines(path)
    try:
        _, header = next(lines)
    except StopIteration:
        raise DataError(f"{path}: empty; a RecBole atomic file starts with a header such as 'user_id:token'") from None
    names = [h.split(":", 1)[0].strip() for h in header.rstrip("\n").split("\t")]
    rows = []
    for n, line in lines:
        cells = line.rstrip("\n").split("\t")
        if len(cells) != len(names):
            raise DataError(f"{path}:{n}: {len(cells)} tab-separated fields, the header names {len(names)}")
        rows.append(cells)
    return names, rows


def _one(folder: Path, suffix: str) -> Path | None:
    found = sorted(p for p in folder.iterdir() if p.name.endswith((suffix, suffix + ".gz")))
    if len(found) > 1:
        raise DataError(f"{folder}: {len(found)} '*{suffix}' files; a RecBole dataset directory holds one")
    return found[0] if found else None


def load_recbole(folder: Path) -> Dataset:
    """RecBole's atomic files as they ship (`<name>.inter` with user_id, item_id, timestamp; optional `<name>.item`
    with a title column), gzipped or not: every interaction, each user's in time order (ties: file order)."""
    if not folder.is_dir():
        raise DataError(f"{folder}: dataset directory not found")
    inter = _one(folder, ".inter")
    if inter is None:
        raise DataError(f"{folder}: no '<name>.inter' file (RecBole atomic files: .inter + .item)")
    names, rows = _atomic_table(inter)
    missing = [c for c in ("user_id", "item_id") if c not in names]
    if missing:
        raise DataError(f"{inter}: no {' or '.join(missing)} column (header: {', '.join(names)})")
    if "timestamp" not in names:
        raise DataError(f"{inter}: no timestamp column, so no chronological leave-one-out split; use a copy with "
                        "timestamps (e.g. ml-100k in ../shared/datasets/movielens-100k)")
    u, i, t = (names.index(c) for c in ("user_id", "item_id", "timestamp"))
    by_user: dict[str, list] = defaultdict(list)
    for n, r in enumerate(rows):
        try:
            by_user[r[u]].append((float(r[t]), n, r[i]))
        except ValueError:
            raise DataError(f"{inter}:{n + 2}: timestamp {r[t]!r} is not a number") from None
    users = sorted(by_user)
    seqs = [[it for _, _, it in sorted(by_user[x])] for x in users]
    items: dict[str, dict] = {}
    item_file = _one(folder, ".item")
    if item_file is not None:
        inames, irows = _atomic_table(item_file)
        if "item_id" not in inames:
            raise DataError(f"{item_file}: no item_id column (header: {', '.join(inames)})")
        cols = {f: next((inames.index(c) for c in cands if c in inames), None) for f, cands in RECBOLE_FIELDS.items()}
        k = inames.index("item_id")
        for r in irows:
            items[r[k]] = {f: (r[c] if c is not None and r[c] != "" else None) for f, c in cols.items()}
    name = inter.name.split(".inter")[0]
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", name):   # it names cache files: a plain name only
        raise DataError(f"{inter}: dataset name {name!r} (from the file name) is not a plain name; rename the files "
                        "to e.g. mydata.inter / mydata.item")
    return _build(name, users, seqs, items)


def load_dataset(spec: str, data_dir: str | Path | None = None) -> Dataset:
    """`beauty` | `toys` | `sports` | `ml-100k` | `simple:<dir>` | `mcauley:<dir>:<Category>` | `recbole:<dir>`."""
    if spec.startswith("simple:"):
        return load_simple(Path(spec[len("simple:"):]))
    if spec.startswith("recbole:"):
        return load_recbole(Path(spec[len("recbole:"):]))
    if spec in RECBOLE_NAMES:
        dirs = [Path(data_dir)] if data_dir else default_data_dirs()
        for d in dirs:
            if (d / RECBOLE_NAMES[spec]).is_dir():
                return load_recbole(d / RECBOLE_NAMES[spec])
        raise DataError(f"dataset '{spec}' not found (looked in {', '.join(str(d / RECBOLE_NAMES[spec]) for d in dirs)}); "
                        "pass --data-dir DIR or use recbole:<dir>")
    if spec.startswith("mcauley:"):
        try:
            _, folder, category = spec.split(":", 2)
        except ValueError:
            raise DataError(f"dataset '{spec}': use mcauley:<dir>:<Category>, e.g. mcauley:/data:Beauty") from None
        return load_mcauley(Path(folder), category)
    if spec not in AMAZON_FOLDERS:
        raise DataError(f"dataset '{spec}' is unknown; use one of {', '.join([*AMAZON_FOLDERS, *RECBOLE_NAMES])}, "
                        "simple:<dir>, mcauley:<dir>:<Category> or recbole:<dir>")
    dirs = [Path(data_dir)] if data_dir else default_data_dirs()
    for d in dirs:
        folder = d / AMAZON_FOLDERS[spec]
        if folder.is_dir():
            return load_amazon_p5(folder, spec)
        raw = d / f"reviews_{MCAULEY_CATEGORY[spec]}_5.json.gz"
        if raw.is_file():
            return load_mcauley(d, MCAULEY_CATEGORY[spec], spec)
    looked = ", ".join(str(d / AMAZON_FOLDERS[spec]) for d in dirs)
    raise DataError(f"dataset '{spec}' not found (looked in {looked}); pass --data-dir DIR or set "
                    f"GR_SCALING_DATA, or fetch the raw files with `gr-scaling data download {spec} DIR`")
