"""Datasets, leave-one-out split and training examples."""
from scaling.data.dataset import Dataset, item_text, select
from scaling.data.loaders import load_dataset
from scaling.data.split import Examples, Split, leave_one_out, most_popular

__all__ = ["Dataset", "item_text", "select", "load_dataset", "Examples", "Split", "leave_one_out", "most_popular",
           "load_split"]


def load_split(data, data_dir: str | None, log=print) -> tuple[Dataset, Dataset, Split]:
    """A run's data (`data`: its DataConfig): the full dataset, the selected users/items, and their
    leave-one-out split. The one place both paradigms turn `data.*` into examples."""
    full = load_dataset(data.dataset, data_dir)
    log(f"loaded {full.summary()}")
    ds = select(full, data.max_items, data.min_sequence, data.max_users, data.subset_seed)
    split = leave_one_out(ds, data.max_history, data.sliding_window, data.min_sequence, data.augment)
    log(f"using {ds.summary()}; {len(split.train):,} training examples")
    return full, ds, split
