"""A fresh study's best runs beside a committed one's (issue #26: the quickstart's 25 minutes beside the full dense
study), per paradigm, each with its interval over its own evaluation users; paired where both select the same users,
else said to be on different users (then only the intervals compare, not a difference)."""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from analysis.load import best_runs, load_results, run_label
from analysis.outcomes import USER_KEYS, compare_runs


def _cell(r: pd.Series | None, metric: str) -> str:
    if r is None:
        return "—"
    which = metric.split("/")[0]
    ci = f" [{r[f'{metric}.lo']:.4f}, {r[f'{metric}.hi']:.4f}]" if f"{metric}.lo" in r and pd.notna(r[f"{metric}.lo"]) else ""
    users = f", {int(r[f'{which}/n_users']):,} users" if pd.notna(r.get(f"{which}/n_users")) else ""
    return f"{run_label(r)}: {float(r[metric]):.4f}{ci}{users}"


def beside_section(fresh: pd.DataFrame, study_dir: str | Path, metric: str = "test/recall@10",
                   title: str = "the committed dense study") -> list[str]:
    study = load_results(study_dir)
    if study.empty or metric not in study or fresh.empty or metric not in fresh:
        return []
    a, b = best_runs(fresh, metric), best_runs(study, metric)
    lines = [f"## Beside {title}", "",
             f"Each paradigm's best run here and in `{study_dir}` (`gr-scaling report {study_dir}`), `{metric}` with "
             "its 95% interval over its own evaluation users.", "",
             "| paradigm | this study | " + title + " |", "|---|---|---|"]
    from scaling.paradigms import PARADIGMS

    for par in sorted(set(a) | set(b)):
        name = PARADIGMS[par].title if par in PARADIGMS else par
        lines.append(f"| {name} | {_cell(a.get(par), metric)} | {_cell(b.get(par), metric)} |")
    lines.append("")
    for par in sorted(set(a) & set(b)):
        ra, rb = a[par], b[par]
        if all(str(ra.get(k)) == str(rb.get(k)) for k in USER_KEYS) and "path" in ra:
            which, name = metric.split("/", 1)
            p = compare_runs(ra["path"], rb["path"], name, which, ra.to_dict(), rb.to_dict())
            lines.append(f"- {par}: {title} vs this study, paired: {p.describe()}")
        else:
            diff = [k for k in USER_KEYS if str(ra.get(k)) != str(rb.get(k))]
            lines.append(f"- {par}: on different users ({', '.join(f'{k} {ra.get(k)} vs {rb.get(k)}' for k in diff)}): "
                         "compare the intervals; no paired difference is stated")
    return lines + [""]
