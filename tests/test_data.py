"""Loaders against the real shared datasets, the McAuley raw format, the simple format, and every
bad input named in the issue (each asserting its one-line message)."""
import gzip
import json

import numpy as np
import pytest

from conftest import SHARED_DATA, write
from scaling.config import EncoderConfig
from scaling.cache import ArtifactCache
from scaling.data import leave_one_out, load_dataset, most_popular
from scaling.data.dataset import item_text
from scaling.data.loaders import load_mcauley, load_simple
from scaling.encoders import embed_items
from scaling.errors import DataError


@pytest.mark.parametrize("name,counts", [("beauty", (22363, 12101, 198502)), ("sports", (35598, 18357, 296337)),
                                         ("toys", (19412, 11924, 167597))])
def test_published_5core_counts(name, counts):
    ds = load_dataset(name, SHARED_DATA)
    assert (ds.n_users, ds.n_items, ds.n_interactions) == counts


def test_beauty_text_and_remap():
    ds = load_dataset("beauty", SHARED_DATA)
    assert ds.missing_fields()["title"] == 7 and ds.missing_fields()["categories"] == 0
    assert ds.item_ids == sorted(ds.item_ids)            # index = sorted ASIN, not P5 first appearance
    first = ds.sequences[0]
    assert not np.array_equal(first, np.arange(len(first)))   # P5 had user 1 -> items 1..5
    t = item_text(ds.items[int(first[0])])
    assert t.startswith("Title: ") and "Categories: Beauty > " in t


def test_sports_has_no_text_and_encoder_refuses(tmp_path):
    ds = load_dataset("sports", SHARED_DATA)
    assert not ds.has_text()
    with pytest.raises(DataError, match="no item has text"):
        embed_items([item_text(i) for i in ds.items], EncoderConfig(), ArtifactCache(tmp_path), ds.name)


def test_missing_dataset_dir_says_where(tmp_path):
    with pytest.raises(DataError, match=rf"dataset 'beauty' not found \(looked in {tmp_path}/amazon2014-beauty\); pass --data-dir"):
        load_dataset("beauty", tmp_path)


def _simple(tmp_path, seqs: str, items=None):
    d = tmp_path / "mydata"
    write(d / "sequences.txt", seqs)
    if items is not False:
        rows = items or [{"item_id": i, "title": f"Item {i}"} for i in "abcdef"]
        write(d / "items.jsonl", "\n".join(json.dumps(r) for r in rows))
    return d


def test_simple_format_loads(tmp_path):
    d = _simple(tmp_path, "u1 a b c\nu2 b c d e\n")
    ds = load_dataset(f"simple:{d}")
    assert ds.n_users == 2 and ds.n_items == 5 and ds.n_interactions == 7
    assert ds.items[0]["title"] == "Item a"


@pytest.mark.parametrize("seqs,msg", [
    ("u1 a b c\nu1 d e f\n", r"sequences.txt:2: duplicate user 'u1' \(first at line 1\)"),
    ("u1 a b c\nu2\n", r"sequences.txt:2: user 'u2' has an empty sequence"),
    ("u1 a b zz\n", r"sequences.txt:1: unknown item id 'zz' in the sequence of user 'u1'"),
])
def test_bad_sequences(tmp_path, seqs, msg):
    with pytest.raises(DataError, match=msg):
        load_simple(_simple(tmp_path, seqs))


def test_missing_item_text_file(tmp_path):
    with pytest.raises(DataError, match=r"items.jsonl: item text file \(items.jsonl\) not found"):
        load_simple(_simple(tmp_path, "u1 a b c\n", items=False))


def test_malformed_p5_line(tmp_path):
    d = tmp_path / "amazon2014-beauty"
    d.mkdir()
    with gzip.open(d / "datamaps.json.gz", "wt") as f:
        json.dump({"id2item": {"1": "A", "2": "B", "3": "C"}}, f)
    with gzip.open(d / "sequential_data.txt.gz", "wt") as f:
        f.write("1 1 2 3\n2 1 x 3\n")
    with pytest.raises(DataError, match=r"sequential_data.txt.gz:2: malformed line, expected integers"):
        load_dataset("beauty", tmp_path)


def test_malformed_json_items(tmp_path):
    d = _simple(tmp_path, "u1 a b c\n")
    (d / "items.jsonl").write_text('{"item_id": "a"}\n{oops\n')
    with pytest.raises(DataError, match=r"items.jsonl:2: malformed JSON"):
        load_simple(d)


def test_mcauley_raw_format(tmp_path):
    """The original 2014 files: strict-JSON reviews, Python-literal metadata; sorted by review time."""
    reviews = [("U1", "I3", 300), ("U1", "I1", 100), ("U1", "I2", 200), ("U2", "I2", 50), ("U2", "I3", 60),
               ("U2", "I1", 70)]
    with gzip.open(tmp_path / "reviews_Beauty_5.json.gz", "wt") as f:
        for u, a, t in reviews:
            f.write(json.dumps({"reviewerID": u, "asin": a, "unixReviewTime": t, "overall": 5.0}) + "\n")
    with gzip.open(tmp_path / "meta_Beauty.json.gz", "wt") as f:
        f.write("{'asin': 'I1', 'title': 'Red Polish', 'categories': [['Beauty', 'Nails']], 'price': 3.5}\n")
        f.write("{'asin': 'I2', 'description': 'A cream', 'categories': [['Beauty', 'Skin']]}\n")
        f.write("{'asin': 'I3', 'title': 'Brush &amp; Comb', 'categories': [['Beauty']]}\n")
    ds = load_mcauley(tmp_path, "Beauty", "beauty")
    assert ds.user_ids == ["U1", "U2"]
    assert [ds.item_ids[i] for i in ds.sequences[0]] == ["I1", "I2", "I3"]
    assert [ds.item_ids[i] for i in ds.sequences[1]] == ["I2", "I3", "I1"]
    assert item_text(ds.items[0]) == "Title: Red Polish; Categories: Beauty > Nails; Price: 3.5"
    assert item_text(ds.items[2]) == "Title: Brush & Comb; Categories: Beauty"
    assert ds.missing_fields() == {"title": 1, "categories": 0, "description": 2, "price": 2}
    # the same directory also loads by name through --data-dir
    assert load_dataset("beauty", tmp_path).n_interactions == 6


def test_leave_one_out_and_windows():
    from scaling.data.dataset import Dataset
    seqs = [np.arange(6), np.array([7, 8, 9])]
    ds = Dataset("t", ["a", "b"], seqs, [str(i) for i in range(10)], [{}] * 10)
    sp = leave_one_out(ds, max_history=3, sliding_window=True)
    assert sp.test.target.tolist() == [5, 9] and sp.valid.target.tolist() == [4, 8]
    assert sp.test.history[0].tolist() == [2, 3, 4]          # truncated to the last 3
    assert sp.valid.history[1].tolist() == [-1, -1, 7]
    assert sp.train.target.tolist() == [1, 2, 3]             # user b has one training item: no example
    assert sp.train.history[2].tolist() == [0, 1, 2]
    assert len(leave_one_out(ds, 3, sliding_window=False).train) == 1
    assert most_popular(sp, 2).tolist() == [0, 1]


def test_all_subsequences_augmentation():
    """data.augment=all (GRID): every contiguous sub-sequence before each training target, within max_history."""
    from scaling.data.dataset import Dataset
    ds = Dataset("t", ["a"], [np.arange(7)], [str(i) for i in range(7)], [{}] * 7)   # train part: 0 1 2 3 4
    sp = leave_one_out(ds, max_history=3, sliding_window=True, augment="all")
    got = sorted((tuple(h[h >= 0].tolist()), int(t)) for h, t in zip(sp.train.history, sp.train.target))
    want = sorted((tuple(range(a, t)), t) for t in range(1, 5) for a in range(max(0, t - 3), t))
    assert got == want and len(got) == 1 + 2 + 3 + 3
    assert leave_one_out(ds, 3, True, augment="prefix").train.target.tolist() == [1, 2, 3, 4]


def test_too_short_sequence():
    from scaling.data.dataset import Dataset
    ds = Dataset("t", ["a"], [np.array([1, 2])], ["0", "1", "2"], [{}] * 3)
    with pytest.raises(DataError, match="fewer than 3 items"):
        leave_one_out(ds)


def test_popular_core_keeps_the_densest_items_and_users():
    full = load_dataset("beauty", SHARED_DATA)
    counts = np.bincount(np.concatenate(full.sequences), minlength=full.n_items)
    core = full.popular_core(1000, 5)
    assert core.n_items == 1000 and all(len(s) >= 5 for s in core.sequences)
    # exactly the 1,000 most-interacted items, and each user's kept items in their original order
    assert counts[core.parent_items].min() >= np.sort(counts)[-1000]
    u = full.user_ids.index(core.user_ids[0])
    assert [core.item_ids[i] for i in core.sequences[0]] == [full.item_ids[i] for i in full.sequences[u]
                                                            if full.item_ids[i] in set(core.item_ids)]
    # denser than a random subset of the same number of users: mean interactions per item
    sub = full.subset(core.n_users, 0)
    assert core.n_interactions / core.n_items > 3 * sub.n_interactions / sub.n_items
    with pytest.raises(DataError, match=r"no user has 50 or more interactions among the 10 most popular items; "
                                        "raise data.max_items"):
        full.popular_core(10, 50)


def test_recbole_atomic_files_load_without_conversion():
    """MovieLens-100K in RecBole's own format (../shared/datasets/movielens-100k): every interaction, each user's in
    time order, titles and genres from the .item file; `ml-100k` and `recbole:<dir>` name the same data."""
    import gzip

    ds = load_dataset("ml-100k", SHARED_DATA)
    assert (ds.n_users, ds.n_items, ds.n_interactions) == (943, 1682, 100_000)
    assert ds.missing_fields()["title"] == 0 and ds.items[ds.item_ids.index("1")]["title"] == "Toy Story"
    assert load_dataset(f"recbole:{SHARED_DATA / 'movielens-100k'}").n_interactions == 100_000
    rows = [line.split("\t") for line in gzip.open(SHARED_DATA / "movielens-100k" / "ml-100k.inter.gz", "rt")][1:]
    user = ds.user_ids[0]
    mine = sorted(((float(r[3]), n, r[1]) for n, r in enumerate(rows) if r[0] == user))
    assert [ds.item_ids[i] for i in ds.sequences[0]] == [it for _, _, it in mine]   # chronological, by hand


@pytest.mark.parametrize("inter,msg", [
    ("user_id:token\titem_id:token\n1\t2\n", "no timestamp column, so no chronological leave-one-out split"),
    ("user_id:token\titem_id:token\ttimestamp:float\n1\t2\n", r"x.inter:2: 2 tab-separated fields, the header names 3"),
    ("user_id:token\ttimestamp:float\n1\t2\n", "no item_id column"),
    ("user_id:token\titem_id:token\ttimestamp:float\n1\t2\tsoon\n", "timestamp 'soon' is not a number"),
])
def test_bad_recbole_files_are_one_line(tmp_path, inter, msg):
    (tmp_path / "x.inter").write_text(inter)
    with pytest.raises(DataError, match=msg):
        load_dataset(f"recbole:{tmp_path}")
