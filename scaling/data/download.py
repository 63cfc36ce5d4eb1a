"""Download McAuley's original Amazon 2014 files (needs internet; this project's CI has none)."""
from __future__ import annotations

import urllib.request
from pathlib import Path

from tqdm.auto import tqdm

from scaling.data.loaders import MCAULEY_CATEGORY, checked_category
from scaling.errors import DataError

BASE_URL = "http://snap.stanford.edu/data/amazon/productGraph/categoryFiles"


def urls(category: str) -> list[str]:
    return [f"{BASE_URL}/reviews_{category}_5.json.gz", f"{BASE_URL}/meta_{category}.json.gz"]


def download(dataset: str, dest: str | Path) -> list[Path]:
    category = checked_category(MCAULEY_CATEGORY.get(dataset, dataset))
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    paths = []
    for url in urls(category):
        path = dest / url.rsplit("/", 1)[1]
        if not path.is_file():
            tmp = path.with_suffix(".part")
            try:
                with urllib.request.urlopen(url, timeout=60) as r, open(tmp, "wb") as f, \
                        tqdm(total=int(r.headers.get("Content-Length", 0)) or None, unit="B", unit_scale=True,
                             desc=path.name) as bar:
                    while chunk := r.read(1 << 20):
                        f.write(chunk)
                        bar.update(len(chunk))
            except OSError as e:
                raise DataError(f"{url}: download failed ({e}); download it by hand into {dest}") from None
            tmp.replace(path)
        paths.append(path)
    return paths
