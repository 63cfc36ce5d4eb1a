"""Files shipped with the package, found the same way in a checkout and in an installed wheel: the grids
(`sweeps/grids/*.yaml`, package data of `sweeps`), the cluster profiles and DeepSpeed configs (`slurm/`, package
data installed as `sweeps.site`). A user's own path always wins; a shipped file is the fallback for a path written
relative to the repository (`slurm/deepspeed/zero2.json`, `sweeps/grids/quick.yaml`) or for a bare name (`quick`).
Read with importlib.resources, so `pip install .` (or a wheel, or a git URL) runs the quickstart and the shipped
grids from any directory."""
from __future__ import annotations

from importlib import resources
from pathlib import Path

# repository prefix -> (package holding those files, the folder in it)
PACKAGES = {"sweeps/grids/": ("sweeps", "grids/"), "slurm/": ("sweeps.site", "")}


def shipped(relpath: str) -> Path | None:
    """The shipped file a repository-relative path names, or None."""
    for prefix, (package, folder) in PACKAGES.items():
        if relpath.startswith(prefix):
            try:
                p = resources.files(package).joinpath(folder + relpath[len(prefix):])
            except ModuleNotFoundError:
                return None
            return Path(str(p)) if p.is_file() else None
    return None


def find(path: str | Path, kind_dir: str, suffix: str = ".yaml") -> Path:
    """`path` as given when it exists; else the shipped file it names — a repo-relative path, or a bare name
    looked up in `kind_dir` (e.g. "sweeps/grids/"). Returns `path` unchanged when neither exists (the caller's
    one-line error then names what the user gave)."""
    p = Path(path)
    if p.is_file():
        return p
    s = str(path)
    candidates = [s] if "/" in s else [f"{kind_dir}{s}" + ("" if s.endswith(suffix) else suffix)]
    for c in candidates:
        hit = shipped(c)
        if hit is not None:
            return hit
    return p
