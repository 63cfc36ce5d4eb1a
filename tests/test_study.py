"""Issue #26: the committed dense study (notebooks/results/dense-study) regenerates from the repository alone, and the
report's numbers are the records' — every run's metric, the paired best-vs-best differences and the cold-start table,
each recomputed here by hand from the records' own files (metrics.json, outcomes.npz), not through analysis."""
import json
import re
from pathlib import Path

import numpy as np
import pytest

from conftest import REPO

STUDY = REPO / "notebooks" / "results" / "dense-study"
METRIC = "test/recall@10"


def _records() -> dict[str, dict]:
    """run id -> {metric, paradigm, outcomes} of every finished record (the ones the repository holds)."""
    out = {}
    for d in sorted(STUDY.iterdir()):
        if not (d / "metrics.json").is_file() or (d / "status").read_text().strip() != "done":
            continue
        m = json.loads((d / "metrics.json").read_text())
        cfg = json.loads((d / "config.json").read_text())
        with np.load(d / "outcomes.npz") as o:
            test = {k.split("/", 1)[1]: o[k] for k in o.files if k.startswith("test/")}
        out[d.name] = {"metric": m[METRIC], "paradigm": cfg["paradigm"], "test": test,
                       "cold_max": cfg["eval"].get("cold_max", 5),
                       "sids": cfg["paradigm"] == "llmrs" and cfg.get("llm", {}).get("item_repr") == "sid"}
    return out


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    from scaling.app.main import main

    out = tmp_path_factory.mktemp("dense-study-report")
    assert main(["report", str(STUDY), "--out", str(out), "--n-boot", "40"]) == 0
    return (out / "report.md").read_text(), out


def test_every_finished_run_is_in_the_report_with_its_recorded_metric(report):
    md, out = report
    recs = _records()
    assert len(recs) >= 6, f"{STUDY} holds {len(recs)} finished runs"
    assert f"{len(recs)} finished runs" in md
    table = md.split("\n## Runs", 1)[1]
    shown = sorted(float(row.split("|")[-4]) for row in table.splitlines() if row.startswith(("| sidgr", "| sasrec",
                                                                                                 "| llmrs")))
    assert shown == pytest.approx(sorted(r["metric"] for r in recs.values()), abs=5e-4)   # printed to 4 digits
    assert (out / "figures" / "runs.png").stat().st_size > 1000
    users = int(np.median([len(r["test"]["rank"]) for r in recs.values()]))
    limits = md.split("## What these runs can and cannot show", 1)[1].split("\n## ", 1)[0]
    assert f"scored on {users:,} test users" in limits and "ran on a CPU" in limits


def test_llm_families_are_told_apart_by_name_not_size():
    from analysis.limits import family, resolvable

    assert family("Qwen/Qwen3-0.6B") == family("Qwen/Qwen3-14B") == "Qwen3"
    assert family("smollm2") != family("gemma3-270m")
    assert resolvable(0.1, 4000) == pytest.approx(resolvable(0.1, 1000) / 2)   # 4x the users, half the difference


def _hits(test: dict, key: str = "rank") -> dict[int, float]:
    return dict(zip(test["user"].tolist(), (test[key] < 10).astype(float).tolist()))


def test_best_vs_best_and_vs_popular_are_the_records_paired_differences(report):
    md, _ = report
    recs = _records()
    best = {}
    for rid, r in recs.items():   # an LLM reading SIDs is not its paradigm's stand-in (analysis.sid_llm)
        if r["sids"]:
            continue
        if r["paradigm"] not in best or r["metric"] > recs[best[r["paradigm"]]]["metric"]:
            best[r["paradigm"]] = rid
    assert {"sidgr", "sasrec"} <= set(best)
    checked = 0
    for par, rid in best.items():   # best run vs most-popular on its own users
        h, p = _hits(recs[rid]["test"]), _hits(recs[rid]["test"], "popular_rank")
        m = re.search(rf"- best {par} run \(.*?\) vs most-popular: ([+-][0-9.]+) \[.*?\] on (\d+) users", md)
        assert m, f"no best-{par}-vs-popular line"
        assert float(m.group(1)) == pytest.approx(np.mean([h[u] - p[u] for u in h]), abs=6e-5)
        assert int(m.group(2)) == len(h)
        checked += 1
    for a, b, title in (("sidgr", "sasrec", "best SID-GR"), ("llmrs", "sidgr", "best LLM-as-RS")):
        if not {a, b} <= set(best):
            continue
        ha, hb = _hits(recs[best[a]]["test"]), _hits(recs[best[b]]["test"])
        shared = sorted(set(ha) & set(hb))
        m = re.search(rf"- {title} \(.*?\) vs best .*?: {METRIC}: ([0-9.]+) vs ([0-9.]+), difference ([+-][0-9.]+) "
                      rf"\[.*?\] on (\d+) shared users", md)
        assert m, f"no {title} vs best {b} line"
        assert int(m.group(4)) == len(shared) >= 1000
        assert float(m.group(3)) == pytest.approx(np.mean([ha[u] - hb[u] for u in shared]), abs=6e-5)
        checked += 1
    assert checked >= 3


def test_each_llms_lora_ladder_has_its_neighbouring_ranks_paired(report):
    """Both LLMs' LoRA-rank ladders, not only the one the lora axis fits, are paired rank by rank (by hand here)."""
    md, _ = report
    recs, ladders = _records(), {}
    for rid in recs:
        cfg = json.loads((STUDY / rid / "config.json").read_text())
        llm = cfg.get("llm", {})
        if cfg["paradigm"] != "llmrs" or recs[rid]["sids"] or llm.get("probe", "none") != "none":
            continue
        ladders.setdefault((llm["name"], cfg["train"]["max_steps"]), {})[llm["lora_r"]] = rid
    ladders = {k: v for k, v in ladders.items() if len(v) >= 3}
    assert len(ladders) >= 2, f"LoRA ladders of >= 3 ranks: {sorted(ladders)}"
    lines = [ln for block in md.split("\n\n") if block.startswith("LLM-as-RS trainable (LoRA) params, neighbouring")
             for ln in block.splitlines()[1:]]
    shown = sorted(float(m.group(1)) for ln in lines for m in [re.search(r"difference ([+-][0-9.]+) ", ln)] if m)
    want = []
    for ranks in ladders.values():
        r = sorted(ranks)
        for a, b in zip(r, r[1:]):
            ha, hb = _hits(recs[ranks[a]]["test"]), _hits(recs[ranks[b]]["test"])
            want.append(np.mean([hb[u] - ha[u] for u in sorted(set(ha) & set(hb))]))
    assert shown == pytest.approx(sorted(want), abs=6e-5)
    assert "another ladder (llm.name=" in md


def test_cold_start_table_is_a_hand_count_on_the_best_runs_outcomes(report):
    md, _ = report
    recs = _records()
    rows = [r for r in md.split("## Cold-start items", 1)[1].split("\n## ", 1)[0].splitlines() if r.startswith("| ")
            and "cold users" not in r]
    assert len(rows) >= 2
    for row in rows:
        cells = [c.strip() for c in row.strip("|").split("|")]
        n_cold, n_all = map(int, re.match(r"(\d+) \(of (\d+)", cells[2]).groups())
        value, overall = float(cells[3].split()[0]), float(cells[5])
        # the row's run: the record whose metric is the row's overall one, with as many cold users
        rid = next(i for i, r in recs.items() if abs(r["metric"] - overall) < 5e-5 and
                   sum(r["test"]["target_train_count"] <= r["cold_max"]) == n_cold)
        t = recs[rid]["test"]
        cold = t["target_train_count"] <= recs[rid]["cold_max"]
        assert (n_cold, n_all) == (int(cold.sum()), len(t["rank"]))
        assert value == pytest.approx(float((t["rank"][cold] < 10).mean()), abs=6e-5)


def test_a_fresh_study_is_set_beside_the_committed_one_with_each_best_run(tmp_path):
    """The quickstart's section (scaling.app.quickstart.beside_committed_study): each paradigm's best run of both,
    the committed study's as its records say, and no paired difference where the two select different users."""
    from scaling.app.quickstart import beside_committed_study

    report = tmp_path / "report.md"
    report.write_text("# gr-scaling report\n")
    fresh = REPO / "notebooks" / "results" / "quick"
    beside_committed_study(str(fresh), report, STUDY)
    md = report.read_text()
    assert md.startswith("# gr-scaling report") and "## Beside the committed dense study" in md
    recs = _records()
    best = max((r for r in recs.values() if r["paradigm"] == "sidgr"), key=lambda r: r["metric"])
    row = next(line for line in md.splitlines() if line.startswith("| SID-GR |"))
    assert f"{best['metric']:.4f}" in row.split("|")[3]
    assert "on different users (data.max_users 2000 vs 0" in md and "no paired difference" in md
    assert "Beside the committed" in (tmp_path / "report.html").read_text()


def test_a_record_older_than_a_key_stays_on_its_ladder():
    """The MiniLM small record predates `llm.item_repr` (its config.json lacks the key, which it ran at the legacy
    value "title"): load_runs reads it as it ran, and the encoder ladder has all four encoders, not the three newer
    records."""
    from analysis import load_runs
    from analysis.study import axis_runs

    old_dir = STUDY / "sidgr-696797bc68ec3264"
    assert "item_repr" not in json.loads((old_dir / "config.json").read_text())["llm"]   # the record as written
    df = load_runs(STUDY)
    assert (df.loc[df["run_id"] == old_dir.name, "llm.item_repr"] == "title").all()       # read as it ran
    enc = axis_runs(df, "encoder")
    assert {"minilm", "mpnet", "smollm2", "gemma3-270m"} <= set(enc["encoder.name"])


def test_runs_their_step_cap_ended_still_improving_are_listed_and_marked(report):
    """By hand from each record: a cap reached with no early stop, the kept checkpoint the last validation."""
    md, _ = report
    rising = set()
    for d in sorted(STUDY.iterdir()):
        if not (d / "metrics.json").is_file() or (d / "status").read_text().strip() != "done":
            continue
        m, cfg = json.loads((d / "metrics.json").read_text()), json.loads((d / "config.json").read_text())
        cap = cfg["train"]["max_steps"]
        if cap and m["steps"] >= cap and not m["stopped_early"] and m["best_step"] == m["curve"][-1]["step"]:
            rising.add(d.name)
    section = md.split("## Step-capped runs", 1)[1].split("\n## ", 1)[0] if rising else ""
    listed = {r.split("|")[1].split()[0] for r in section.splitlines() if r.startswith("| llmrs") or r.startswith("| sidgr")
              or r.startswith("| sasrec")}
    assert listed == rising
    assert all("still improving" in r for r in section.splitlines() if r.startswith("| ") and r.split()[1] in rising)
    best_llm = re.search(r"- best llmrs run \((.*?)\) vs most-popular", md)
    if best_llm and rising:
        top = max((json.loads((STUDY / i / "metrics.json").read_text())[METRIC], i) for i in _records()
                  if i.startswith("llmrs"))[1]
        assert ("still improving at its step cap" in best_llm.group(1)) == (top in rising)


def test_cap_state_tells_a_run_past_its_best_from_one_still_rising():
    from analysis.capped import cap_state

    row = {"train.max_steps": 600, "steps": 600, "train.eval_every": 150, "stopped_early": False}
    assert cap_state({**row, "best_step": 600}) == "rising"
    assert cap_state({**row, "best_step": 450}) == "capped"
    assert cap_state({**row, "best_step": 600, "stopped_early": True}) is None   # patience ran out at the cap
    assert cap_state({**row, "train.max_steps": 0, "best_step": 600}) is None   # no cap: early stopping ended it


def test_suggest_trains_out_each_run_still_rising_at_its_cap_as_a_valid_new_run():
    from analysis.capped import capped_runs
    from analysis.load import load_runs
    from scaling import config
    from scaling.app.suggest import capped_suggestions

    df = load_runs(STUDY, warn=lambda *_: None)
    rising = capped_runs(df)
    rising = set(rising[rising["cap_state"] == "rising"]["run_id"])
    lines = capped_suggestions(df)
    assert bool(lines) == bool(rising)
    cmds = [ln.split("gr-scaling run ", 1)[1].split() for ln in lines if "gr-scaling run --from" in ln]
    assert len(cmds) == len(rising)
    for c in cmds:   # --from RECORD train.max_steps=N: the record's config, 4x its cap, a new id
        record, override = c[1], c[2:]
        old = config.from_record(record, [])
        new = config.from_record(record, override)
        assert new.train.max_steps == 4 * old.train.max_steps and Path(record).name in rising
        assert config.config_hash(new) != config.config_hash(old)


def test_an_llm_reading_sids_is_paired_with_its_title_twin_and_kept_out_of_the_paradigm_verdicts(report):
    md, _ = report
    recs, cfgs = _records(), {}
    for rid in recs:
        cfgs[rid] = json.loads((STUDY / rid / "config.json").read_text())
    sid = [i for i, c in cfgs.items() if c["paradigm"] == "llmrs" and c["llm"].get("item_repr") == "sid"]
    if not sid:
        pytest.skip("no SIDs-in-the-LLM record yet")
    section = md.split("## SIDs as the LLM's items", 1)[1].split("\n## ", 1)[0]
    for rid in sid:
        m = json.loads((STUDY / rid / "metrics.json").read_text())
        assert m["test/invalid_rate"] == 0.0   # #25: only real SIDs decoded, on the dense core's 1,000 users
        c = cfgs[rid]
        twin = [i for i, t in cfgs.items() if t["paradigm"] == "llmrs" and t["llm"].get("item_repr", "title") == "title"
                and {k: v for k, v in t["llm"].items() if k != "item_repr"} == {k: v for k, v in c["llm"].items()
                                                                                if k != "item_repr"}
                and t["train"] == c["train"] and t["data"] == c["data"] and t["eval"] == c["eval"]]
        assert len(twin) == 1
        hs, ht = _hits(recs[rid]["test"]), _hits(recs[twin[0]]["test"])
        got = re.search(rf"vs its title twin \({twin[0]}, .*?difference ([+-][0-9.]+) \[.*?\] on (\d+) shared", section)
        assert got and int(got.group(2)) == len(hs)
        assert float(got.group(1)) == pytest.approx(np.mean([hs[u] - ht[u] for u in hs]), abs=6e-5)
    best = re.search(r"- best llmrs run \((.*?)\) vs most-popular", md).group(1)
    assert "SIDs" not in best   # LLM-as-RS's best in the paradigm verdicts reads titles
    titles = [i for i in recs if i.startswith("llmrs") and i not in sid]
    law = re.search(r"not fitted \((\d+) llmrs runs for", md)
    assert law is None or int(law.group(1)) == len(titles)


def test_suggest_takes_each_axis_largest_run_one_rung_up_its_own_axis():
    """`gr-scaling suggest`'s 'one run at a larger size' for every fitted axis of the study: the override sets a key
    of that axis (the paradigm's Axis.defines), loads as a config from the largest record, and gives a new run; for
    the SID-GR and SASRec recommenders the size it announces is the next preset's exact count, above the largest.
    (SASRec's was an 'llm.name=<a larger LLM>' that no SASRec run reads.)"""
    from analysis.load import load_runs
    from scaling import config, paradigms
    from scaling.app.suggest import _next_rung

    df = load_runs(STUDY, warn=lambda *_: None)
    for axis, (paradigm, ax) in paradigms.axes().items():
        rows = df[(df["paradigm"] == paradigm) & df[ax.column].notna()]
        if axis == "llm" or rows.empty:   # no same-family LLM ladder here: a placeholder to fill in
            continue
        largest = rows.loc[rows[ax.column].astype(float).idxmax()]
        cfg = json.loads((Path(largest["path"]) / "config.json").read_text())
        override, size = _next_rung(axis, cfg)
        keys = re.findall(r"(?:^|\s)([\w.]+)=", override)
        assert keys and all(k.startswith(ax.defines) for k in keys), (axis, override)
        if "<" in override:
            continue
        new = config.from_record(largest["path"], override.split())
        assert config.config_hash(new) != config.config_hash(config.from_record(largest["path"], []))
        if axis in ("recommender", "id_recommender"):
            assert size is not None and size > float(largest[ax.column]), (axis, size)


def test_a_recommender_rung_is_the_next_preset_by_size_not_by_the_presets_order():
    """The presets' dict lists the 2025 study's t2-* sizes after xl, so the next preset in order after xl was
    t2-336k, 300x smaller. The rung up (down) is the smallest preset above (the largest below) by non-embedding
    parameters; none past the ends."""
    from scaling.app.suggest import _preset_rung
    from scaling.sidgr.presets import ENCDEC

    cfg = lambda p: {"model": {"preset": p, "arch": "encdec"}, "tokenizer": {"levels": 3, "width": 64}}  # noqa: E731
    sizes = {}
    for p in ENCDEC:
        up, n_up = _preset_rung(cfg(p), "larger")
        down, n_down = _preset_rung(cfg(p), "smaller")
        for ov, n in ((up, n_up), (down, n_down)):
            if n is not None:
                sizes[ov.split("=")[1]] = n
        assert (n_up is None) != (n_down is None) or (n_up is not None and n_down < n_up), (p, up, down)
    order = sorted(sizes, key=sizes.get)
    assert order[0] == "tiny" and _preset_rung(cfg("tiny"), "smaller")[1] is None
    for a, b in zip(order, order[1:]):   # each preset's rung up is the next in size order
        assert _preset_rung(cfg(a), "larger")[0] == f"model.preset={b}"
    assert _preset_rung(cfg("xl"), "larger")[0] != "model.preset=t2-336k"
