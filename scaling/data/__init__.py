"""Datasets, leave-one-out split and training examples."""
from scaling.data.dataset import Dataset, item_text, select
from scaling.data.loaders import load_dataset
from scaling.data.split import Examples, Split, leave_one_out, most_popular

__all__ = ["Dataset", "item_text", "select", "load_dataset", "Examples", "Split", "leave_one_out", "most_popular"]
