"""YAML grids -> resolved run configs.

    name: quick
    base:                      # fixed values for every run (nested or dotted keys)
      data.max_users: 3000
    product:                   # axes crossed with each other
      model.preset: [tiny, small, grid]
      seed: [0, 1]
    zip:                       # groups of axes that move together (equal lengths)
      - {tokenizer.levels: [2, 3], tokenizer.width: [256, 64]}
    only:                      # axes that apply to one paradigm only, crossed in for its runs
      sidgr: {tokenizer.kind: [rkmeans, rvq]}
    ladders:                   # a union: each block varies its own axes (lists) with its own fixed
      - {model.preset: [tiny, small, grid]}        # values (scalars); everything else from base.
      - {encoder.name: [minilm, mpnet]}            # Points that coincide are one run.

Validated on load: an unknown key names the key, the file and the closest valid key.
"""
from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from pathlib import Path

from scaling import config as run_config
from scaling.config import RunConfig
from scaling.errors import ConfigError
from scaling.shipped import find

SECTIONS = {"name", "base", "product", "zip", "only", "ladders", "description"}


@dataclass
class Grid:
    name: str
    path: str
    runs: list[RunConfig]


def _check_key(key: str, where: str) -> None:
    valid = run_config.valid_keys()
    if key not in valid:
        raise ConfigError(f"{where}: unknown key '{key}'{run_config.closest_hint(key, valid)}")


def _flat(d: dict, where: str) -> dict:
    if not isinstance(d, dict):
        raise ConfigError(f"{where}: expected a mapping of config keys")
    out = run_config.flatten(run_config.nest(d)) if d else {}
    for k in out:
        _check_key(k, where)
    return out


def _axes(d: dict, where: str, scalars: bool = False) -> list[dict]:
    """A product section -> list of {key: value} points (`scalars`: a non-list value is one fixed value)."""
    flat = _flat(d or {}, where)
    if scalars:
        flat = {k: v if isinstance(v, list) else [v] for k, v in flat.items()}
    for k, v in flat.items():
        if not isinstance(v, list) or not v:
            raise ConfigError(f"{where}: axis '{k}' must be a non-empty list of values")
    keys = list(flat)
    return [dict(zip(keys, combo)) for combo in itertools.product(*(flat[k] for k in keys))]


NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


def _checked_name(name: str, p: Path) -> str:
    """A grid's name becomes file names under the runs directory (its sweep record, its results table): a plain
    name only, never a path."""
    if not NAME.fullmatch(name) or ".." in name:
        raise ConfigError(f"{p}: grid name {name!r} is not a plain name (letters, digits, '.', '_', '-'; no '/' or "
                          "'..'); it names files under the runs directory, so fix 'name' in the grid")
    return name


def grid_name(path: str | Path) -> str:
    """The grid's name (its `name`, else the file's stem) without building its runs."""
    p = grid_path(path)
    return _checked_name(str(run_config.read_yaml_mapping(p, "grid file").get("name") or p.stem), p)


def grid_path(path: str | Path) -> Path:
    """A grid file as given, else a shipped grid by repo path or name (`quick`, `sweeps/grids/paper-rs.yaml`)."""
    return find(path, "sweeps/grids/")


def load_grid(path: str | Path, bf16: bool | None = None) -> Grid:
    """The grid's runs, precision `auto` resolved for devices that compute bf16 natively (`bf16`; None: this
    machine, see scaling.config.from_dict)."""
    p = grid_path(path)
    g = run_config.read_yaml_mapping(p, "grid file")
    for k in g:
        if k not in SECTIONS:
            raise ConfigError(f"{p}: unknown section '{k}'{run_config.closest_hint(k, sorted(SECTIONS))}")
    base = _flat(g.get("base") or {}, f"{p} (base)")
    points = _axes(g.get("product"), f"{p} (product)")
    for i, group in enumerate(g.get("zip") or []):
        flat = _flat(group, f"{p} (zip {i})")
        lengths = {len(v) if isinstance(v, list) else -1 for v in flat.values()}
        if len(lengths) != 1 or -1 in lengths:
            raise ConfigError(f"{p} (zip {i}): zipped axes must be lists of equal length; got "
                              + ", ".join(f"{k}: {len(v) if isinstance(v, list) else 'not a list'}" for k, v in flat.items()))
        zipped = [dict(zip(flat, vals)) for vals in zip(*flat.values())]
        points = [{**a, **b} for a in points for b in zipped]
    ladders = g.get("ladders") or []
    if not isinstance(ladders, list):
        raise ConfigError(f"{p} (ladders): expected a list of blocks, each a mapping of config keys")
    if ladders:
        points = [{**a, **b} for a in points for i, block in enumerate(ladders)
                  for b in _axes(block, f"{p} (ladders {i})", scalars=True)]
    only = g.get("only") or {}
    runs, seen = [], set()
    for pt in points:
        values = {**base, **pt}
        paradigm = values.get("paradigm", RunConfig().paradigm)
        extra = _axes(only[paradigm], f"{p} (only.{paradigm})") if paradigm in only else [{}]
        for ex in extra:
            cfg = run_config.from_dict(run_config.nest({**values, **ex}), str(p), bf16)
            h = run_config.config_hash(cfg)
            if h not in seen:
                seen.add(h)
                runs.append(cfg)
    for para in only:
        if para not in run_config.CHOICES["paradigm"]:
            raise ConfigError(f"{p} (only): unknown paradigm '{para}'; choose one of "
                              f"{', '.join(run_config.CHOICES['paradigm'])}")
    return Grid(name=_checked_name(str(g.get("name") or p.stem), p), path=str(p), runs=runs)
