"""Run directories -> one pandas DataFrame. Reads files only (never imports training code)."""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from analysis.errors import AnalysisError
from scaling.record import STATUS_DONE, read_status_line


def _flatten(d: dict, prefix: str = "") -> dict:
    out = {}
    for k, v in d.items():
        if isinstance(v, dict):
            out.update(_flatten(v, f"{prefix}{k}."))
        elif not isinstance(v, list):
            out[prefix + k] = v
    return out


RECORD_FILES = (("config", ""), ("params", ""), ("metrics", ""), ("timing", "timing."), ("serving", "serving."))
REQUIRED = ("config", "metrics")


def as_ran(cfg: dict) -> dict:
    """A record's config.json as the run ran it: a record written before a key existed lacks the key and ran its
    legacy value (`scaling.config.HASHED_WHEN_SET`; its id says so), so it is read the way
    `scaling.config.from_dict(record=True)` reloads it, and an older record groups with newer ones of the same run
    kind. A config that no longer loads (a key since removed or renamed) is read as written."""
    import scaling.config as config

    try:
        if "auto" in (cfg.get("train", {}).get("autocast"), cfg.get("llm", {}).get("dtype")):
            return cfg   # a run records its resolved precision; resolving it here would read this machine, not the run's
        return config.from_dict(cfg, where="record", record=True, bf16=False).to_dict()
    except Exception:   # whatever stops it loading (a hand-edited or damaged file), the row keeps what is written
        return cfg


def _read_record(d: Path, status: str) -> dict:
    """One run directory as a flat row; ValueError naming the file when a record file is unreadable."""
    row = {"run_id": d.name, "status": status, "path": str(d)}
    for name, prefix in RECORD_FILES:
        f = d / f"{name}.json"
        if not f.is_file():
            if name in REQUIRED and status == STATUS_DONE:
                raise ValueError(f"{f}: missing")
            continue
        try:
            obj = json.loads(f.read_bytes().decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            raise ValueError(f"{f}: unreadable ({type(e).__name__}: {str(e).splitlines()[0][:80]})") from None
        if not isinstance(obj, dict):
            raise ValueError(f"{f}: expected a JSON object, got {type(obj).__name__}")
        row.update(_flatten(as_ran(obj) if name == "config" else obj, prefix))
    if (d / "outcomes.npz").is_file():
        row.update(user_intervals(d))
    return row


INTERVAL_METRICS = ("recall@5", "recall@10", "ndcg@5", "ndcg@10")


def user_intervals(d: Path) -> dict:
    """From a run's per-user outcomes: `<set>/n_users` and each metric's 95% interval over users as
    `<set>/<metric>.lo` / `.hi` (and most-popular's, `<set>/popular/<metric>.lo` / `.hi`)."""
    from analysis.outcomes import per_user, read_outcomes, user_interval

    out = {}
    try:
        outcomes = read_outcomes(d)
    except AnalysisError as e:
        raise ValueError(str(e)) from None
    for s, f in outcomes.items():
        out[f"{s}/n_users"] = int(len(f["user"]))
        for m in INTERVAL_METRICS:
            for field, prefix in (("rank", ""), ("popular_rank", "popular/")):
                if field in f and (field == "rank" or int(m.split("@")[1]) <= 10):
                    lo, hi = user_interval(per_user(f[field], m))
                    out[f"{s}/{prefix}{m}.lo"], out[f"{s}/{prefix}{m}.hi"] = lo, hi
    return out


def load_runs(path: str | Path, include_unfinished: bool = False, warn=None, run_ids=None) -> pd.DataFrame:
    """One row per run directory under `path` (searched recursively for `status` files): config keys
    (`model.preset`, ...), params (`n_rs`, `n_llm`, `n_qt`, ...), metrics (`test/recall@10`, ...),
    timing, serving cost (`serving.*`), plus `run_id`, `status` and `path`.

    A record that cannot be read (a truncated or non-UTF-8 JSON file, e.g. cut short when copied from a
    cluster) is skipped with a one-line warning naming the file; the list is in `df.attrs["skipped"]`,
    and the report prints it. Nothing is written to the run directories. `run_ids`: read only these run
    directories (`path/<run_id>`; a grid's, for `sweep collect`) instead of searching the whole tree."""
    import sys

    warn = warn or (lambda msg: print(f"warning: {msg}", file=sys.stderr))
    root = Path(path)
    if not root.is_dir():
        raise AnalysisError(f"{root}: results directory not found")
    rows, skipped = [], []
    found = sorted(root.rglob("status")) if run_ids is None else \
        [f for f in (root / r / "status" for r in sorted(set(run_ids))) if f.is_file()]
    for status_file in found:
        d = status_file.parent
        try:
            status = read_status_line(d)[0]
        except OSError:
            status = "?"
        if status != STATUS_DONE and not include_unfinished:
            continue
        try:
            rows.append(_read_record(d, status))
        except ValueError as e:
            skipped.append(str(e))
            warn(f"skipped run record {e}")
    df = pd.DataFrame(rows)
    df.attrs["skipped"] = skipped
    df.attrs["kind"] = "runs"
    return df


def load_curves(path: str | Path, warn=None, runs: pd.DataFrame | None = None) -> pd.DataFrame:
    """Every finished run's training curves in long format: run_id, step, examples, flops, metric, value (metric:
    `train/loss`, `train/lr`, `train/examples_per_s`, `train/tokens_per_s` from `curves.json` every train.log_every
    steps, and `valid/<metric>` at every validation; records older than curves.json give their validation curve from
    metrics.json, examples counted as step x the global batch). `flops` = examples x the record's training FLOPs per
    example (params.json), NaN where it has none. Attrs: `best_step` per run (the kept checkpoint). `runs`: those
    runs' curves only (rows of `load_runs(path)` already read), instead of reading every record again."""
    import sys

    warn = warn or (lambda msg: print(f"warning: {msg}", file=sys.stderr))
    runs = load_runs(path, warn=warn) if runs is None else runs
    rows, best = [], {}
    for _, r in runs.iterrows():
        d = Path(r["path"])
        per_ex = float(r.get("train_flops_per_example", float("nan")))
        batch = r.get("train.batch_size")
        try:
            cur = json.loads((d / "curves.json").read_text()) if (d / "curves.json").is_file() else None
        except (OSError, ValueError) as e:
            warn(f"{d / 'curves.json'}: unreadable ({type(e).__name__}); its curves are left out")
            continue
        if cur is not None:
            series = [("train", cur.get("train") or {}), ("valid", cur.get("valid") or {})]
            best[r["run_id"]] = cur.get("best_step")
        else:   # an older record: validation only, from metrics.json
            m = json.loads((d / "metrics.json").read_text())
            valid = m.get("curve") or []
            series = [("valid", {k: [p.get(k) for p in valid] for k in (valid[0] if valid else {})})]
            best[r["run_id"]] = m.get("best_step")
        for kind, cols in series:
            steps = cols.get("step") or []
            examples = cols.get("examples") or [s * batch if batch == batch else float("nan") for s in steps]
            for k, values in cols.items():
                if k in ("step", "examples", "epoch"):
                    continue
                for s, e, v in zip(steps, examples, values):
                    if isinstance(v, (int, float)) and not isinstance(v, bool):
                        rows.append((r["run_id"], s, e, e * per_ex, f"{kind}/{k}", float(v)))
    df = pd.DataFrame(rows, columns=["run_id", "step", "examples", "flops", "metric", "value"])
    df.attrs["best_step"] = best
    return df


MINIMAL = ("size", "metric")


def load_results(path: str | Path, warn=None) -> pd.DataFrame:
    """A results directory (run directories, see `load_runs`) or a results table: a `sweep collect` CSV /
    Parquet (its columns are `load_runs`'s), or a minimal CSV / Parquet with columns `size,metric` and
    optionally `seed,group` (e.g. a published ladder typed in). A minimal table comes back with
    attrs["kind"] = "table" and one curve per group is fitted from it."""
    p = Path(path)
    if p.is_dir():
        return load_runs(p, warn=warn)
    if not p.is_file():
        raise AnalysisError(f"{p}: not found; give a results directory or a results table (.csv or .parquet)")
    suffix = p.suffix.lower()
    if suffix not in (".csv", ".parquet"):
        raise AnalysisError(f"{p}: a results table must be .csv or .parquet (or give a results directory)")
    try:
        df = pd.read_parquet(p) if suffix == ".parquet" else pd.read_csv(p)
    except Exception as e:  # noqa: BLE001 - pandas/pyarrow raise many types; all mean "not a readable table"
        raise AnalysisError(f"{p}: not a readable {suffix[1:]} table ({type(e).__name__}: "
                            f"{str(e).splitlines()[0][:100] if str(e) else ''})") from None
    df.columns = [str(c).strip() for c in df.columns]
    if set(MINIMAL) <= set(df.columns):
        for col in ("size", "metric"):
            bad = pd.to_numeric(df[col], errors="coerce").isna()
            if bad.any():
                row = int(bad.to_numpy().nonzero()[0][0])
                raise AnalysisError(f"{p}: row {row + 2}: column '{col}' must be a number, got {df[col].iloc[row]!r}")
            df[col] = df[col].astype(float)
        if (df["size"] <= 0).any():
            raise AnalysisError(f"{p}: column 'size' must be > 0 (a parameter count)")
        df["group"] = df["group"].astype(str) if "group" in df else "all"
        df["seed"] = df["seed"] if "seed" in df else 0
        df["paradigm"] = "table"
        df["run_id"] = [f"row{i + 2}" for i in range(len(df))]
        df.attrs.update(kind="table", skipped=[])
        return df
    if "paradigm" not in df or not any("@" in c for c in df.columns):
        raise AnalysisError(f"{p}: expected the `sweep collect` columns (paradigm, test/recall@10, ...) or the minimal "
                            f"columns size,metric[,seed,group]; found: {', '.join(df.columns[:8])}")
    df.attrs.update(kind="runs", skipped=[])
    return df


def with_outcomes(df: pd.DataFrame) -> pd.DataFrame:
    """The runs whose record has per-user outcomes (outcomes.npz): what paired comparisons can use."""
    if not len(df) or "path" not in df:
        return df
    return df[[(Path(p) / "outcomes.npz").is_file() for p in df["path"]]]


def without_probes(df: pd.DataFrame) -> pd.DataFrame:
    """The runs that are models one could deploy: LLM-as-RS CF probes (ID-only, shuffled, most-popular rows)
    measure the data, not a model, and are left out of frontiers and "best run" comparisons."""
    if "llm.probe" not in df:
        return df
    return df[df["llm.probe"].isna() | (df["llm.probe"] == "none") | (df["paradigm"] != "llmrs")]


def reads_sids(df: pd.DataFrame) -> pd.Series:
    """Per run: an LLM-as-RS run whose items are SIDs (`llm.item_repr=sid`, the 2025 study's Table 5), not titles."""
    if "llm.item_repr" not in df:
        return pd.Series(False, index=df.index)
    return (df["paradigm"] == "llmrs") & (df["llm.item_repr"] == "sid")


def as_the_paradigms(df: pd.DataFrame) -> pd.DataFrame:
    """The runs that stand for their paradigm in paradigm-vs-paradigm comparisons: deployable (no CF probes) and,
    for LLM-as-RS, reading titles as the paradigm is defined; an LLM reading SIDs is the bridge between the two
    paradigms, compared with its title twin instead (analysis.sid_llm)."""
    df = without_probes(df)
    return df[~reads_sids(df)]


def best_runs(df: pd.DataFrame, metric: str) -> dict[str, pd.Series]:
    """Each paradigm's best run (of `as_the_paradigms`) by `metric`: {paradigm: its row}."""
    return {par: rows.loc[rows[metric].astype(float).idxmax()] for par, rows in as_the_paradigms(df).groupby("paradigm")
            if metric in rows and rows[metric].notna().any()}


def run_label(row) -> str:
    """What distinguishes a run in a results table, by paradigm (a row of `load_runs`)."""
    from scaling.paradigms import label

    return label(row)
